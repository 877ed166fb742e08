import Foundation
import GRDB
import KakehashiShared

/// `kakehashi sync`: push pending changes in bounded batches, then pull pages until caught up.
///
/// Crash safety: a pushed batch is marked synced only after the server answered, and the server
/// is idempotent by change id, so a batch interrupted anywhere is simply pushed again. Each
/// pulled page is applied in one transaction together with the cursor, so an interrupted pull
/// resumes after the last whole page and never applies a page twice.
///
/// Cancelling the task running a sync stops it with `CancellationError` wherever it is: in a
/// request, in the pause before a retry, or between batches and pages. What was stored stays.
public struct SyncEngine: Sendable {
    public struct Progress: Sendable {
        public enum Phase: String, Sendable { case push, pull, history }
        public let phase: Phase
        public let changes: Int
        /// Pending changes to push (push phase); unknown while pulling.
        public let total: Int?
        public let bytes: Int
        /// Pull pages applied so far (pull phase).
        public var pages = 0
    }

    /// What this sync brought that the user had not seen: the last line of `kakehashi sync`.
    public struct Arrivals: Sendable, Encodable, Hashable {
        /// Cases that were not on this laptop before the sync.
        public var newCases = 0
        /// Referral events naming this laptop's advisor as `referred_to`, new on this laptop.
        public var referralsToMe = 0
        /// Conflicts that were not there before the sync.
        public var newConflicts = 0
    }

    public struct Rejection: Sendable, Encodable, Hashable {
        public let change: String
        public let record: String
        public let field: String?
        public let code: String
        public let reason: String
    }

    public struct Summary: Sendable, Encodable {
        public var pushed = 0
        public var accepted = 0
        public var duplicates = 0
        public var rejected: [Rejection] = []
        public var pulled = 0
        /// Records received as merged states (a bootstrap from states) that changed the replica.
        public var states = 0
        /// Changes of a bootstrap's history stored as history (`kakehashi log`).
        public var history = 0
        /// Whether some history of a bootstrap from states, or of a record gained as a state, is
        /// still to come (the next syncs download it).
        public var historyPending = false
        public var purged = 0
        /// New entries in the refused store (`kakehashi refused`) from changes the server refused.
        public var refused = 0
        /// New entries in the refused store from own changes a purge took away with their case.
        public var keptFromPurges = 0
        public var bytes = 0
        public var conflicts = 0
        /// Server time minus laptop time (ms): as learned from this sync's quick requests, else
        /// as the laptop held it before (`DeviceIdentity.clockOffset`).
        public var clockOffset: Int64 = 0
        /// Set when this sync found the server's log restored or replaced and recovered from it.
        public var recovery: Recovery?
        public var arrived = Arrivals()
        public var pages = 0
        /// The `limit` each pull page was asked with, in order (they grow while the network
        /// leaves the laptop waiting: `PullPacing`).
        public var pageLimits: [Int] = []
    }

    /// What a recovery from a restored server did: own changes sent again (the server kept those
    /// it already had once), then everything downloaded again from the start.
    public struct Recovery: Sendable, Encodable, Hashable {
        /// Own changes sent again.
        public var resent: Int
        /// Of those, how many the restored log lacked.
        public var restored = 0
        /// Whether the replica was downloaded again in full (false when the sync stopped first;
        /// the next sync goes on).
        public var reloaded = false
        /// Whether the replica was reset during this sync (a second change of epoch after that
        /// stops the sync instead of resetting again).
        public var reset = false
    }

    public let client: FieldClient
    public let transport: any SyncTransport
    public var pushBatchSize = 500
    /// Changes per push once the server listed `binary-push`: the most a push may hold. Each push
    /// is one transaction, synced to disk when it commits; with the binary form the server's work
    /// per change is small enough that the commit was a third of a push's time at 500.
    public var binaryPushBatchSize = WireProtocol.maxPushChanges
    /// Keeps a push body well under the server's `WireProtocol.maxRequestBytes`.
    public var pushBatchBytes = WireProtocol.maxRequestBytes / 2
    /// The `limit` of a sync's first pull page. Later pages grow from it (doubling, up to
    /// `WireProtocol.maxPullLimit`) while the network leaves the laptop waiting for the page it
    /// asked ahead (`PullPacing`).
    public var pullPageSize = WireProtocol.defaultPullLimit
    /// Pages per page stream (`pages`), once the server listed `page-streams`: the link stays busy
    /// for this many pages between two requests' round trips.
    public var pullStreamPages = 16
    /// Changes per history page, and how many pages one sync downloads at most: the history of a
    /// bootstrap from states arrives over the next syncs without making any of them long.
    public var historyPageSize = WireProtocol.maxPullLimit
    public var historyPagesPerSync = 40

    public init(client: FieldClient, transport: any SyncTransport) {
        self.client = client
        self.transport = transport
        // A test hook, like `KAKEHASHI_TEST_CLOCK_SKEW_SECONDS`: a few changes of history per
        // sync leave the history of a small log incomplete after a sync, as a large log's is.
        if let count = ProcessInfo.processInfo.environment["KAKEHASHI_TEST_HISTORY_PER_SYNC"].flatMap(Int.init) {
            (historyPageSize, historyPagesPerSync) = (count, 1)
        }
    }

    public func run(progress: @Sendable (Progress) -> Void = { _ in }) async throws -> Summary {
        var summary = Summary()
        // A sync whose every request is slow (`ClockOffset.isTelling`) learns nothing of the
        // clocks: the offset stored stays, not 0 — a laptop whose clock is hours off would stamp
        // its next writes that far off (refused and re-stamped when ahead, silently losing to
        // older writes when behind).
        summary.clockOffset = try client.identity().clockOffset
        let before = try client.store.read(SeenRecords.read)
        do {
            // A recovery that begins during the pull sends own changes and starts the pull again;
            // a log replaced once more meanwhile is left for the next sync.
            var caughtUp = false
            for _ in 0..<3 where !caughtUp {
                try await push(&summary, progress: progress)
                guard try finishRecovery(&summary) else { continue }
                caughtUp = try await pull(&summary, progress: progress)
            }
            if caughtUp { try await downloadHistory(&summary, progress: progress) }
            guard caughtUp else {
                throw KakehashiError(
                    .unavailable,
                    "the sync did not finish: the server kept refusing or replacing what this laptop sent; your work is kept, sync again later"
                )
            }
        } catch let failure as TransportFailure {
            if case .status(401, let body) = failure, body?.error.kind == .revoked {
                let directory = client.store.directory
                try client.store.wipe()
                throw KakehashiError(
                    .notAuthorized,
                    "the server says this device is revoked or its advisor deactivated (\(body?.error.message ?? "401")); the local data in \(directory) has been wiped"
                )
            }
            // Pages pulled before the failure may have purged: scrub now (or at the next open).
            try? client.store.scrubIfNeeded()
            if case .cancelled = failure { throw CancellationError() }
            throw failure.kakehashiError
        } catch let cancellation as CancellationError {
            try? client.store.scrubIfNeeded()
            throw cancellation
        }
        try client.store.write { db in
            var identity = try DeviceIdentity.load(db)
            identity.lastSync = client.wallClock()
            try identity.save(db)
            summary.historyPending = try PendingHistories.anyPending(in: db)
            let after = try SeenRecords.read(db)
            summary.conflicts = after.conflicts.count
            summary.arrived = Arrivals(from: before, to: after)
        }
        // Once per sync, after the last page: purged text leaves the search index and the WAL.
        try client.store.scrubIfNeeded()
        client.store.emptyWAL()
        return summary
    }

    // MARK: - Push

    private func push(_ summary: inout Summary, progress: @Sendable (Progress) -> Void) async throws {
        let total = try client.store.read(PushQueue.count)
        var reissued: Set<String> = []
        var limit = pushBatchSize
        // Bodies are compressed, and sent in `BinaryPush`'s form, once a reply has listed the
        // features: the first batch of a sync goes as JSON, plain, since this laptop may talk to
        // an older server.
        var gzip = false
        var binary = false
        // The batch after the one in flight, read and encoded while the server works on that one.
        var ahead: PreparedPush?
        // A batch the server took whole, marked synced while the next one is in flight.
        var taken: [Change] = []
        while true {
            if Task.isCancelled {
                try markSynced(taken)
                throw CancellationError()
            }
            let identity = try client.identity()
            let prepared: PreparedPush
            if let ahead, ahead.isIn(gzip: gzip, binary: binary) {
                prepared = ahead
            } else {
                // Read from its start, the queue must hold what the server's answers left.
                try markSynced(taken)
                taken = []
                guard let next = try prepare(after: nil, limit: limit, gzip: gzip, binary: binary) else { return }
                prepared = next
            }
            ahead = nil
            let batch = prepared.request.changes
            let sent = client.wallClock()
            let form = (limit: limit, gzip: gzip, binary: binary, taken: taken)
            async let following = prepare(after: batch.last, limit: form.limit, gzip: form.gzip, binary: form.binary)
            async let marked: Void = markSynced(form.taken)
            let outcome = await pushOnce(prepared, token: identity.token)
            let received = client.wallClock()
            try await marked
            taken = []
            // Read by a task beside the push: a failure to read is met again, and reported, by
            // the next read in this loop.
            let next = try? await following
            let reply: Transferred<PushResponse>
            switch outcome {
            case .success(let answer):
                reply = answer
            case .failure(let failure):
                switch Self.recovery(from: failure, batch: batch) {
                case .shrink:
                    limit = max(1, batch.count / 2)  // the server wants smaller requests
                case .refuse(let bad, let message):
                    // One change the server finds invalid must not block every later sync:
                    // refuse that change locally, with the server's reason, and go on.
                    try client.store.write { db in
                        try reject(bad, code: "invalid", reason: message, summary: &summary, in: db)
                        summary.refused += try RefusedStore.keep(
                            [RefusedStore.Kept(change: bad, code: "invalid", reason: message)], cause: .rejected,
                            at: client.wallClock(), in: db)
                        try rebuild([RecordRef(entity: bad.entity, record: bad.record)], in: db)
                    }
                case .fail:
                    throw failure
                }
                continue
            }
            gzip = reply.features.contains(WireProtocol.gzipRequestsFeature)
            binary = reply.features.contains(WireProtocol.binaryPushFeature)
            let nextLimit = binary ? binaryPushBatchSize : pushBatchSize
            summary.bytes += reply.bytes
            summary.pushed += batch.count
            learnOffset(serverTime: reply.value.serverTime, sent: sent, received: received, into: &summary)
            if nextLimit == limit, summary.recovery == nil, let counts = Self.takenWhole(reply.value, batch, identity) {
                // Nothing for the queue but marks: they are written while the next batch is in
                // flight, and the batch read ahead goes as read (none: the queue is read again).
                summary.accepted += counts.accepted
                summary.duplicates += counts.duplicates
                taken = batch
                ahead = next
            } else {
                let queueAsRead = try client.store.write { db in
                    let marked = try record(reply.value, for: batch, reissued: &reissued, summary: &summary, in: db)
                    return try notice(epoch: reply.value.epoch, summary: &summary, in: db) && marked
                }
                // The batch read ahead stands only if this answer left the queue as it was read:
                // nothing rejected, re-stamped or put back, and batches of the same size.
                if queueAsRead, nextLimit == limit, let next { ahead = next }
            }
            limit = nextLimit
            progress(
                Progress(phase: .push, changes: summary.pushed, total: max(total, summary.pushed), bytes: summary.bytes)
            )
        }
    }

    /// How many of `batch` the server accepted and already held, when its answer took every
    /// change and leaves nothing else for the laptop to do: the results match the batch, none is
    /// rejected, the log is the one this replica mirrors (its epoch known and unchanged), and no
    /// recovery is under way. Nil otherwise (`record` and `notice` then handle the answer).
    private static func takenWhole(
        _ response: PushResponse, _ batch: [Change], _ identity: DeviceIdentity
    ) -> (accepted: Int, duplicates: Int)? {
        guard !identity.recovering, let known = identity.epoch, response.epoch == nil || response.epoch == known,
            response.results.count == batch.count
        else { return nil }
        var counts = (accepted: 0, duplicates: 0)
        for (change, result) in zip(batch, response.results) {
            guard result.id == change.id else { return nil }
            switch result.status {
            case .accepted: counts.accepted += 1
            case .duplicate: counts.duplicates += 1
            case .rejected: return nil
            }
        }
        return counts
    }

    /// Marks changes the server took whole as synced.
    private func markSynced(_ changes: [Change]) throws {
        guard !changes.isEmpty else { return }
        try client.store.write { db in
            for change in changes { try PushQueue.markSynced(change, in: db) }
        }
    }

    /// The next batch of the queue, oldest first (after `last`, the end of a batch in flight,
    /// when given), prepared to send; nil when no change waits.
    private func prepare(after last: Change?, limit: Int, gzip: Bool, binary: Bool) throws -> PreparedPush? {
        let pending = try client.store.read { db in
            try last.map { try PushQueue.oldest(limit, after: $0, in: db) } ?? PushQueue.oldest(limit, in: db)
        }
        guard !pending.isEmpty else { return nil }
        return transport.prepare(
            PushRequest(changes: Self.boundedBySize(pending, maxBytes: pushBatchBytes)), gzip: gzip, binary: binary)
    }

    /// Marks each pushed change with the server's verdict; a rejected change's record goes back
    /// to what the server holds. Changes refused only because the laptop's clock ran ahead are
    /// re-stamped: marked `restamped`, and written again (once) with the corrected clock.
    /// - Returns: whether the server took every change (accepted, or held it already), so the
    ///   rest of the queue is as it was.
    private func record(
        _ response: PushResponse, for batch: [Change], reissued: inout Set<String>, summary: inout Summary,
        in db: Database
    ) throws -> Bool {
        guard response.results.count == batch.count, zip(batch, response.results).allSatisfy({ $0.id == $1.id }) else {
            throw KakehashiError(.unavailable, "the server's push results do not match the \(batch.count) changes sent")
        }
        var affected: Set<RecordRef> = []
        var restamp: [Change] = []
        var refused: [RefusedStore.Kept] = []
        for (change, result) in zip(batch, response.results) {
            switch result.status {
            case .accepted, .duplicate:
                if result.status == .accepted { summary.accepted += 1 } else { summary.duplicates += 1 }
                if result.status == .accepted, summary.recovery != nil { summary.recovery?.restored += 1 }
                try PushQueue.markSynced(change, in: db)
            case .rejected:
                affected.insert(RecordRef(entity: change.entity, record: change.record))
                if result.code == .clockSkew, !reissued.contains(change.id.description) {
                    restamp.append(change)
                    continue
                }
                let code = result.code?.rawValue ?? "rejected"
                let reason = result.reason ?? "rejected by the server"
                try reject(change, code: code, reason: reason, summary: &summary, in: db)
                refused.append(RefusedStore.Kept(change: change, code: code, reason: reason))
            }
        }
        // Kept in full (one entry per record) before `rebuild` drops them from their records.
        summary.refused += try RefusedStore.keep(refused, cause: .rejected, at: client.wallClock(), in: db)
        if !restamp.isEmpty {
            // Every other pending change stamped as far ahead would be refused too: re-stamp them now.
            let limit = response.serverTime + HybridClock.defaultMaxDriftMillis
            restamp += try PushQueue.oldest(in: db).filter { $0.hlc.millis > limit && !batch.contains($0) }
            for change in restamp {
                try PushQueue.markRestamped(change, in: db)
                affected.insert(RecordRef(entity: change.entity, record: change.record))
            }
        }
        try rebuild(affected, in: db)
        guard !restamp.isEmpty else { return affected.isEmpty }
        // The refused timestamps exist nowhere else, so the clock may go back to the newest
        // timestamp that does, and continue from the corrected wall clock.
        var identity = try DeviceIdentity.load(db)
        let kept = try PushQueue.newestKeptTimestamp(in: db)
        identity.clock = HLC(millis: kept?.millis ?? 0, counter: kept?.counter ?? 0, device: identity.device)
        identity.clockOffset = summary.clockOffset
        try identity.save(db)
        var session = try WriteSession(db: db, wallClock: client.wallClock())
        for change in restamp {
            try session.write(
                change.op, RecordRef(entity: change.entity, record: change.record), field: change.field,
                value: change.value)
        }
        try session.commit()
        reissued.formUnion(session.changes.map(\.id.description))
        return false
    }

    private enum PushRecovery {
        case shrink
        case refuse(Change, String)
        case fail
    }

    private func pushOnce(
        _ prepared: PreparedPush, token: String
    ) async -> Result<Transferred<PushResponse>, TransportFailure> {
        do {
            return .success(try await transport.push(prepared, token: token))
        } catch {
            return .failure(error)
        }
    }

    /// What to do about a refused push: 413 → smaller batches; 422 naming one change → refuse
    /// just that change; anything else (a cancelled request too) → give up for now.
    private static func recovery(from failure: TransportFailure, batch: [Change]) -> PushRecovery {
        guard case .status(let status, let body) = failure else { return .fail }
        if status == 413, batch.count > 1 { return .shrink }
        if status == 422, let bad = invalidChange(in: body, batch: batch) {
            return .refuse(bad, body?.error.message ?? "invalid")
        }
        return .fail
    }

    private func reject(_ change: Change, code: String, reason: String, summary: inout Summary, in db: Database) throws
    {
        try PushQueue.markRejected(change, code: code, reason: reason, in: db)
        summary.rejected.append(
            Rejection(
                change: change.id.description, record: change.record, field: change.field, code: code, reason: reason))
    }

    /// Recomputes records from their change log without refused changes: the server's value.
    private func rebuild(_ refs: some Sequence<RecordRef>, in db: Database) throws {
        for ref in refs {
            try ChangeApplier.rebuild(ref, excluding: try PushQueue.refused(of: ref.record, in: db), in: db)
        }
    }

    /// The longest prefix of `changes` whose JSON stays under `maxBytes` (at least one change).
    static func boundedBySize(_ changes: [Change], maxBytes: Int) -> [Change] {
        var total = 64
        var count = 0
        for change in changes {
            // The value dominates; ids, timestamps and keys add a few hundred bytes.
            let valueBytes: Int = change.value.displayText.utf8.count
            let prevBytes: Int = change.prev.count * 48
            total += 320 + 2 * valueBytes + prevBytes
            if count > 0, total > maxBytes { break }
            count += 1
        }
        return Array(changes.prefix(count))
    }

    /// The change a 422 names: its message starts with `change N (ID):`.
    static func invalidChange(in body: ErrorResponse?, batch: [Change]) -> Change? {
        if let id = body?.error.change { return batch.first { $0.id.description == id } }
        // Servers before the `change` field name it only in the message: "change N (ID): …".
        guard let message = body?.error.message, let open = message.firstIndex(of: "("),
            let close = message[open...].firstIndex(of: ")")
        else { return nil }
        let id = message[message.index(after: open)..<close]
        return batch.first { $0.id.description == id }
    }

    /// Remembers how far the laptop's clock is from the server's (`ClockOffset`), unless the
    /// request took too long to tell.
    /// - Parameter received: when the answer arrived, by default now.
    private func learnOffset(serverTime: Int64, sent: Int64, received: Int64? = nil, into summary: inout Summary) {
        let received = received ?? client.wallClock()
        guard ClockOffset.isTelling(sent: sent, received: received) else { return }
        summary.clockOffset = ClockOffset.estimate(serverTime: serverTime, sent: sent, received: received)
    }

    // MARK: - Pull

    /// Pulls pages until caught up.
    /// - Returns: false when the server's log turned out to be restored or replaced: a recovery
    ///   has begun and the caller pushes again before pulling.
    ///
    /// The next page is asked for while the current one is applied (`ahead`), with `ack` naming
    /// the cursor actually stored, so the server keeps what it needs should the laptop crash
    /// before storing either page (protocol.md, "Asking ahead").
    private func pull(_ summary: inout Summary, progress: @Sendable (Progress) -> Void) async throws -> Bool {
        var ahead: Task<AskedAhead, any Error>?
        // Page streams, once the server listed them (`PageFeed`): pages arrive back to back.
        var feed: PageFeed?
        defer {
            ahead?.cancel()
            feed?.cancel()
        }
        // Sized by what the laptop measures: see `PullPacing`.
        var limit = pullPageSize
        while true {
            try Task.checkCancellation()
            let identity = try client.identity()
            let reply: Transferred<PullResponse>
            let sent: Int64
            do {
                if feed == nil, ahead == nil, Self.streamsPages(identity.features) {
                    feed = PageFeed(
                        transport: transport, token: identity.token, after: identity.cursor, acknowledged: nil,
                        states: try asksStates(identity),
                        streamStates: Self.takesGainedStates(identity), limit: limit, pages: pullStreamPages,
                        clock: client.wallClock)
                }
                if let current = feed {
                    let applied = ContinuousClock.now
                    guard let next = try await current.next() else {
                        // Only after a last page, which ends this loop: ask afresh from what is stored.
                        feed = nil
                        continue
                    }
                    (reply, sent) = (next.reply, next.sent)
                    summary.pageLimits.append(next.limit)
                    limit = PullPacing.next(
                        after: next.limit, idle: PullPacing.idle(streamed: reply, since: applied))
                    current.pace(limit)
                } else if let asked = ahead {
                    ahead = nil
                    // The page asked ahead runs in a task of its own, which a cancelled sync
                    // cancels too instead of waiting for it.
                    let applied = ContinuousClock.now
                    let arrived = try await withTaskCancellationHandler {
                        try await asked.value
                    } onCancel: {
                        asked.cancel()
                    }
                    (reply, sent) = (arrived.reply, arrived.sent)
                    limit = PullPacing.next(
                        after: arrived.limit, idle: arrived.idle(since: applied, server: reply.serverTiming))
                } else if try bootstrapsFromStates(identity) {
                    sent = client.wallClock()
                    summary.pageLimits.append(limit)
                    reply = try await transport.pullStates(limit: limit, token: identity.token)
                } else {
                    sent = client.wallClock()
                    summary.pageLimits.append(limit)
                    reply = try await transport.pull(
                        after: identity.cursor, acknowledged: nil, states: try asksStates(identity),
                        limit: limit, token: identity.token)
                }
            } catch {
                // A cursor the log never issued: it was restored from a backup older than the cursor.
                guard case .status(409, let body) = error as? TransportFailure,
                    body?.error.kind == .unknownCursor
                else { throw error }
                try client.store.write { db in try beginRecovery(&summary, in: db) }
                return false
            }
            let page = reply.value
            if feed == nil, page.hasMore, Self.streamsPages(reply.features) {
                // From here on in page streams, the first asked ahead of this page, as below.
                feed = PageFeed(
                    transport: transport, token: identity.token, after: page.nextCursor,
                    acknowledged: identity.cursor, states: reply.features.contains(WireProtocol.gainedStatesFeature),
                    streamStates: reply.features.contains(WireProtocol.gainedStatesFeature), limit: limit,
                    pages: pullStreamPages, clock: client.wallClock)
            } else if feed == nil, page.hasMore, reply.features.contains("ack") {
                let (transport, size, token, clock) = (transport, limit, identity.token, client.wallClock)
                let (next, stored) = (page.nextCursor, identity.cursor)
                let states = reply.features.contains(WireProtocol.gainedStatesFeature)
                summary.pageLimits.append(size)
                ahead = Task {
                    let (sent, started) = (clock(), ContinuousClock.now)
                    let reply = try await transport.pull(
                        after: next, acknowledged: stored, states: states, limit: size, token: token)
                    return AskedAhead(reply: reply, sent: sent, limit: size, started: started)
                }
            }
            learnOffset(serverTime: page.serverTime, sent: sent, into: &summary)
            let offset = summary.clockOffset
            let wall = client.wallClock()
            let current = try client.store.write { db in
                try notice(epoch: page.epoch, summary: &summary, in: db)
            }
            guard current else { return false }
            try client.store.write { db in
                for ref in page.purges {
                    summary.keptFromPurges += try ChangeApplier.purge(ref, keptAt: wall, in: db)
                }
                var identity = try DeviceIdentity.load(db)
                // States of records gained in the stream are indexed as they come; a bootstrap's
                // wait for one pass at its end.
                let states = try ChangeApplier.merge(
                    page.stateBatch ?? StateBatch([]), indexing: page.gained != nil, in: db)
                try PendingHistories.add(page.gained ?? [], in: db)
                let applied = try ChangeApplier.apply(page.changes, local: false, own: identity.device, in: db)
                var clock = HybridClock(device: identity.device, last: identity.clock)
                let newestState = (page.states ?? []).compactMap(\.newestHead).max()
                if let newest = (page.changes.map(\.hlc) + [newestState].compactMap { $0 }).max() {
                    // A timestamp the drift bound refuses does not move the clock; local writes
                    // still order after what they saw (ChangeMaker advances past `prev`).
                    try? clock.receive(newest, wallMillis: wall + offset)
                }
                identity.clock = clock.last
                identity.clockOffset = offset
                identity.cursor = page.nextCursor
                if let history = page.history { identity.history = history }
                if page.states != nil, page.gained == nil { identity.indexPending = true }
                identity.features = reply.features.sorted()
                try identity.save(db)
                summary.states += states.applied
                summary.pulled += applied.applied
                summary.purged += page.purges.count
            }
            feed?.stored(page.nextCursor)
            summary.bytes += reply.bytes
            summary.pages += 1
            progress(
                Progress(
                    phase: .pull, changes: summary.pulled, total: nil, bytes: summary.bytes, pages: summary.pages))
            if !page.hasMore {
                try buildPendingIndex()
                if summary.recovery?.reset == true { summary.recovery?.reloaded = true }
                // Caught up after a reset (in this sync or an interrupted earlier one): own
                // changes that did not come back are kept as a purge would keep them.
                let time = client.wallClock()
                summary.keptFromPurges += try client.store.write { db in
                    try ReplicaReset.keepWhatDidNotComeBack(at: time, in: db)
                }
                return true
            }
        }
    }

    /// A page asked ahead, and when its request left and its answer arrived.
    struct AskedAhead: Sendable {
        let reply: Transferred<PullResponse>
        /// The laptop's wall clock when the request left (for the clock offset).
        let sent: Int64
        let limit: Int
        let started: ContinuousClock.Instant
        /// When its last byte arrived; decoding it afterwards is the laptop's work, not a wait.
        var arrived: ContinuousClock.Instant { reply.received }

        /// How long the laptop, done with the page before at `applied`, waited for this one
        /// because of the network: its wait less the wait an instant network would have left
        /// (the server's time for the page, when it said, from the request's start). A laptop
        /// that waited only for the server was not idle on the link, and larger pages would not
        /// help it (over loopback they make the two processes overlap less).
        func idle(since applied: ContinuousClock.Instant, server: Duration?) -> Duration {
            let waited = arrived - max(applied, started)
            guard waited > .zero else { return .zero }
            let serverAlone = started + (server ?? .zero) - applied
            return waited - max(.zero, serverAlone)
        }
    }

    /// Whether the next pull starts a bootstrap from states: the laptop has pulled nothing, the
    /// server listed the feature, and no recovery waits for its own changes to come back (they
    /// come back as changes only in a replay from history).
    /// Whether a pull from the stored cursor asks for states: from `0`, only for a bootstrap (a
    /// recovery awaiting its own changes replays them, and `states` from `0` asks the server for
    /// a bootstrap); from a stream cursor, gained records as states.
    private func asksStates(_ identity: DeviceIdentity) throws -> Bool {
        identity.cursor == WireProtocol.initialCursor
            ? try bootstrapsFromStates(identity) : Self.takesGainedStates(identity)
    }

    private func bootstrapsFromStates(_ identity: DeviceIdentity) throws -> Bool {
        guard identity.cursor == WireProtocol.initialCursor, identity.features.contains(WireProtocol.statesFeature)
        else { return false }
        return try !client.store.read(ReplicaReset.awaitsOwnChanges)
    }

    /// Whether the server listed page streams, and `ack`, which the streams after the first need.
    private static func streamsPages(_ features: some Collection<String>) -> Bool {
        features.contains(WireProtocol.pageStreamsFeature) && features.contains("ack")
    }

    /// Whether a pull of the change stream asks for the records it gains as states: only of a
    /// server that listed the feature (an older one would send their history as changes anyway).
    private static func takesGainedStates(_ identity: DeviceIdentity) -> Bool {
        identity.features.contains(WireProtocol.gainedStatesFeature)
    }

    /// Builds the search index in one pass when a bootstrap left it to the end (an interrupted
    /// bootstrap leaves the mark, and the sync that completes it builds it).
    private func buildPendingIndex() throws {
        try client.store.write { db in
            var identity = try DeviceIdentity.load(db)
            guard identity.indexPending else { return }
            try SearchIndex.rebuild(in: db)
            identity.indexPending = false
            try identity.save(db)
        }
    }

    // MARK: - History

    /// Downloads the history states left out (`kakehashi log` shows it): the bootstrap's first,
    /// then each gained record's (`PendingHistories`), a page per transaction with its cursor, at
    /// most `historyPagesPerSync` pages; later syncs go on.
    private func downloadHistory(_ summary: inout Summary, progress: @Sendable (Progress) -> Void) async throws {
        for _ in 0..<historyPagesPerSync {
            try Task.checkCancellation()
            let identity = try client.identity()
            // A server that no longer lists `gained-states` (rolled back) would refuse a scoped
            // cursor: those histories wait, and `log` keeps saying so.
            let gained =
                identity.history == nil && Self.takesGainedStates(identity)
                ? try client.store.read(PendingHistories.next) : nil
            guard let cursor = identity.history ?? gained?.cursor else { return }
            let reply = try await transport.history(after: cursor, limit: historyPageSize, token: identity.token)
            let page = reply.value
            try client.store.write { db in
                var identity = try DeviceIdentity.load(db)
                if let gained {
                    // A purge or a newer gain of the record meanwhile replaced the cursor.
                    guard try PendingHistories.isCurrent(gained, in: db) else { return }
                    try PendingHistories.advance(gained, to: page.hasMore ? page.nextCursor : nil, in: db)
                } else {
                    guard identity.history == cursor else { return }
                    identity.history = page.hasMore ? page.nextCursor : nil
                    try identity.save(db)
                }
                summary.history += try ChangeApplier.storeHistory(
                    page.changes, own: identity.device, complete: !page.hasMore, in: db)
            }
            summary.bytes += reply.bytes
            summary.pages += 1
            progress(
                Progress(
                    phase: .history, changes: summary.history, total: nil, bytes: summary.bytes, pages: summary.pages))
        }
    }

    // MARK: - Recovery from a restored server

    /// Compares the epoch of a response with the one the replica mirrors: adopts the first one
    /// seen, and begins a recovery when it differs.
    /// - Returns: false when a recovery began.
    private func notice(epoch: String?, summary: inout Summary, in db: Database) throws -> Bool {
        guard let epoch else { return true }  // a server older than epochs
        var identity = try DeviceIdentity.load(db)
        if identity.recovering { return true }
        guard let known = identity.epoch else {
            identity.epoch = epoch
            try identity.save(db)
            return true
        }
        if known == epoch { return true }
        try beginRecovery(&summary, in: db)
        return false
    }

    /// The server's log is not the one this replica mirrors (restored from a backup, or
    /// replaced): every own change goes back into the pending queue, so the log receives again
    /// whatever it lacks (it answers `duplicate` for the rest), and the replica will be
    /// downloaded again once they are all acknowledged (`finishRecovery`). Crash-safe: the
    /// `recovering` mark and the queue are written in one transaction.
    private func beginRecovery(_ summary: inout Summary, in db: Database) throws {
        if summary.recovery?.reset == true {
            // The log changed again while this laptop downloaded it anew: two stores behind one
            // address, or a restore repeated. Resetting again would leave nothing; stop instead.
            throw KakehashiError(
                .unavailable,
                "サーバーのログが同期の途中でもう一度入れ替わりました（復元の繰り返し、または複数のサーバー）。同期を中止しました。管理者に確認してから、もう一度 sync してください"
            )
        }
        let resent = try PushQueue.requeueSynced(in: db)
        var identity = try DeviceIdentity.load(db)
        identity.recovering = true
        try identity.save(db)
        summary.recovery = Recovery(resent: (summary.recovery?.resent ?? 0) + resent)
    }

    /// After the push: when a recovery is under way and nothing is pending, resets the replica
    /// (`ReplicaReset`) so the pull starts again from the start.
    /// - Returns: false when changes are still pending (the caller pushes again).
    private func finishRecovery(_ summary: inout Summary) throws -> Bool {
        try client.store.write { db in
            guard try DeviceIdentity.load(db).recovering else { return true }
            if summary.recovery == nil { summary.recovery = Recovery(resent: 0) }  // begun by an earlier sync
            let reset = try ReplicaReset.run(in: db)
            if reset { summary.recovery?.reset = true }
            return reset
        }
    }
}

extension SyncEngine.Arrivals {
    /// What `after` holds that `before` did not.
    init(from before: SeenRecords, to after: SeenRecords) {
        self.init(
            newCases: after.cases.subtracting(before.cases).count,
            referralsToMe: after.referrals.subtracting(before.referrals).count,
            newConflicts: after.conflicts.subtracting(before.conflicts).count)
    }
}

/// How a laptop sizes its pull pages by what it measures. A page is asked for one ahead, while
/// the page before is applied; when it had not arrived by then and the network, not the server,
/// kept it (the laptop sat idle on the link: round trips, a slow or lossy link), the next page is
/// asked twice as large, up to the server's maximum, so fewer round trips and stalls fall on the
/// critical path. A page that was ready keeps the size. Each sync starts again from
/// `SyncEngine.pullPageSize`.
public enum PullPacing {
    /// Idle time on the network below this (less than a round trip on any wide-area link) is
    /// the laptop's own receiving and scheduling, not a link worth fewer, larger pages.
    public static let noticeableIdle = Duration.milliseconds(20)

    /// How long the laptop, done with the page before at `applied`, waited on the network for a
    /// page of a page stream: the wait for its frame less the server's time to make it (the
    /// frame says), which an instant network would have left too.
    public static func idle(
        streamed page: Transferred<some Sendable>, since applied: ContinuousClock.Instant
    )
        -> Duration
    {
        let waited = page.received - applied
        guard waited > .zero else { return .zero }
        return max(.zero, waited - (page.serverTiming ?? .zero))
    }

    /// The `limit` of the next page after a page asked with `limit` left the laptop `idle`.
    public static func next(after limit: Int, idle: Duration) -> Int {
        guard idle > noticeableIdle else { return limit }
        return max(limit, min(limit * 2, WireProtocol.maxPullLimit))
    }
}
