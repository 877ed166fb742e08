import Foundation
import GRDB
import KakehashiShared

/// The embedded change-log store: one SQLite file in WAL mode through a GRDB `DatabasePool`.
///
/// SQLite has one writer at a time, so sequence numbers are assigned in commit order and a
/// reader can never see a later sequence number before an earlier one: pulls need no watermark.
/// Pulls write too (access bookkeeping), so they take the writer briefly.
public final class SQLiteStore: ChangeLogStore {
    private let pool: DatabasePool

    /// Opens (creating if needed, privately: `SQLiteStoreFiles`) the database at `path` and migrates it.
    /// - Throws: `KakehashiError` (`.unavailable`) when the file cannot be created or opened.
    public init(path: String) throws {
        try SQLiteStoreFiles.prepare(path: path)
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrate(pool, path: path)
        } catch let error as KakehashiError {
            throw error
        } catch {
            throw KakehashiError(
                .unavailable, field: "db", "cannot open SQLite store at \(path)", cause: UnderlyingError(error))
        }
    }

    /// `StoreSchema`'s migrations as GRDB migrations `v1`, `v2`, ….
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in StoreSchema.migrations {
            migrator.registerMigration("v\(migration.version)") { db in
                for statement in migration.sqlite { try db.execute(sql: statement) }
            }
        }
        return migrator
    }

    /// Migrates the store at `pool` to `StoreSchema.latest`, refusing a store a newer release wrote.
    static func migrate(_ pool: DatabasePool, path: String) throws {
        let applied = try pool.read { db in try migrator.appliedIdentifiers(db) }
        if let newest = applied.compactMap({ Int($0.dropFirst()) }).max(), newest > StoreSchema.latest {
            throw StoreSchema.newer(newest, store: "sqlite:\(path)")
        }
        try migrator.migrate(pool)
    }

    public func append(
        _ changes: [Change], viewer: AccessPolicy.Viewer?, wallMillis: Int64, onlyIfEmpty: Bool
    ) async throws -> [PushResult] {
        try await pool.write { db in
            if onlyIfEmpty, try Int.fetchOne(db, sql: "SELECT count(*) FROM changes") ?? 0 > 0 { return [] }
            var known = Set<ChangeID>()
            for chunk in StoreCoding.chunks(changes.map(\.id.description)) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                for text in try String.fetchAll(
                    db, sql: "SELECT change_id FROM changes WHERE change_id IN (\(marks))",
                    arguments: StatementArguments(Array(chunk)))
                {
                    if let id = ChangeID(text) { known.insert(id) }
                }
            }
            var existing: [RecordRef] = []
            for chunk in StoreCoding.chunks(Array(Set(changes.map(\.record)))) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                for row in try Row.fetchAll(
                    db, sql: "SELECT entity, id FROM records WHERE id IN (\(marks))",
                    arguments: StatementArguments(Array(chunk)))
                {
                    if let entity = Entity(rawValue: row[0]) {
                        existing.append(RecordRef(entity: entity, record: row[1]))
                    }
                }
            }
            var states: [RecordRef: RecordState] = [:]
            try Self.load(PushPlanner.requiredRecords(changes).union(existing), into: &states, db)
            try Self.load(PushPlanner.eventCases(states), into: &states, db)
            var referrals = Set<RecordRef>()
            for caseID in PushPlanner.referralCases(changes, states: states, viewer: viewer) {
                for event in try String.fetchAll(
                    db,
                    sql: "SELECT DISTINCT record FROM changes WHERE case_id = ? AND entity = 'event' "
                        + "AND field = 'referred_to'",
                    arguments: [caseID])
                {
                    referrals.insert(RecordRef(entity: .event, record: event))
                }
            }
            try Self.load(referrals, into: &states, db)
            var planner = PushPlanner(
                states: states, known: known, viewer: viewer, wallMillis: wallMillis, existingIDs: existing)
            let outcome = planner.plan(changes)
            for change in outcome.accepted {
                try db.execute(
                    sql: """
                        INSERT INTO changes (change_id, entity, record, field, case_id, hlc, body, moved_from)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        change.id.description, change.entity.rawValue, change.record, change.field,
                        planner.caseID(of: change),
                        change.hlc.description, try StoreCoding.encode(change), outcome.movedFrom[change.id],
                    ])
            }
            for event in outcome.movedEvents {
                try db.execute(
                    sql: "UPDATE changes SET case_id = ? WHERE entity = 'event' AND record = ?",
                    arguments: [
                        planner.states[RecordRef(entity: .event, record: event)]?.value("case").stringValue, event,
                    ])
            }
            for ref in Set(outcome.accepted.map { RecordRef(entity: $0.entity, record: $0.record) }) {
                guard let state = planner.states[ref] else { continue }
                try db.execute(
                    sql: "INSERT INTO records (entity, id, state) VALUES (?, ?, ?) "
                        + "ON CONFLICT (entity, id) DO UPDATE SET state = excluded.state",
                    arguments: [ref.entity.rawValue, ref.record, try StoreCoding.encode(state)])
            }
            return outcome.results
        }
    }

    public func pull(
        device: DeviceID, viewer: AccessPolicy.Viewer, cursor: PullCursor, acknowledged: PullCursor?,
        allowFullReconcile: Bool, limit: Int
    ) async throws
        -> PullPage
    {
        let kept = min(acknowledged?.generation ?? cursor.generation, cursor.generation)
        // Most pulls hand out no new access levels: they run as WAL readers, concurrently with
        // each other and with the writer. Only when bookkeeping must change is the page computed
        // again inside a write transaction.
        if let page = try await pool.read({ db in
            try Self.pull(
                db, device: device, viewer: viewer, cursor: cursor, kept: kept, allowFullReconcile: allowFullReconcile,
                limit: limit, writable: false)
        }) {
            return page
        }
        return try await pool.write { db in
            guard
                let page = try Self.pull(
                    db, device: device, viewer: viewer, cursor: cursor, kept: kept,
                    allowFullReconcile: allowFullReconcile, limit: limit, writable: true)
            else { throw KakehashiError(.internalFailure, "pull needed a write and did not get one") }
            return page
        }
    }

    /// One pull page; returns nil when `writable` is false and the page needs bookkeeping writes.
    /// - Parameter kept: the newest generation the client has stored (`ChangeLogStore.pull`).
    private static func pull(
        _ db: Database, device: DeviceID, viewer: AccessPolicy.Viewer, cursor: PullCursor, kept: Int64,
        allowFullReconcile: Bool, limit: Int, writable: Bool
    ) throws -> PullPage? {
        guard
            let generation = try Int64.fetchOne(
                db, sql: "SELECT generation FROM devices WHERE id = ?", arguments: [device.rawValue]),
            cursor.generation <= generation,
            cursor.seq <= (try Int64.fetchOne(db, sql: "SELECT coalesce(max(seq), 0) FROM changes") ?? 0)
        else { throw StoreCoding.unknownCursor(cursor) }
        let newGeneration = generation + 1
        // Forget what responses after the cursor handed out: the client never stored them.
        if writable {
            try db.execute(
                sql: "DELETE FROM device_access WHERE device = ? AND generation > ?",
                arguments: [device.rawValue, cursor.generation])
        } else if try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM device_access WHERE device = ? AND generation > ?)",
            arguments: [device.rawValue, cursor.generation]) == true
        {
            return nil
        }

        var rows: [LogRow] = []
        let cursorRows = try Row.fetchCursor(
            db,
            sql: """
                SELECT seq, entity, record, field, case_id, body, moved_from FROM changes
                WHERE seq > ? ORDER BY seq LIMIT ?
                """,
            arguments: [cursor.seq, limit + 1])
        while let row = try cursorRows.next() {
            guard let entity = Entity(rawValue: row[1]) else { continue }
            rows.append(
                LogRow(
                    seq: row[0], entity: entity, record: row[2], field: row[3], caseID: row[4], json: row[5],
                    movedFrom: row[6]))
        }
        let hasMore = rows.count > limit
        if hasMore { rows.removeLast() }

        let planner = PullPlanner(viewer: viewer)
        let pageCases = PullPlanner.cases(in: rows)
        var plan = planner.reconcile(
            page: rows, states: try Self.caseStates(Array(pageCases), db),
            recorded: try Self.recordedLevels(device, Array(pageCases), db))
        let fullReconcile = planner.needsFullReconcile(rows, cursor: cursor)
        if fullReconcile {
            guard allowFullReconcile else { throw StoreCoding.reconcileThrottled }
            var after = ""
            while true {
                var states: [String: RecordState] = [:]
                let chunk = try Row.fetchAll(
                    db, sql: "SELECT id, state FROM records WHERE entity = 'case' AND id > ? ORDER BY id LIMIT ?",
                    arguments: [after, PullPlanner.reconcileChunk])
                for row in chunk where !pageCases.contains(row[0]) {
                    states[row[0]] = try StoreCoding.state(row[1])
                }
                plan.absorb(
                    planner.reconcile(
                        cases: Set(states.keys), states: states,
                        recorded: try Self.recordedLevels(device, Array(states.keys), db)))
                guard chunk.count == PullPlanner.reconcileChunk, let last = chunk.last else { break }
                after = last[0]
            }
        }

        if !writable && !plan.updates.isEmpty { return nil }
        var changes: [String] = []
        for (caseID, level) in plan.backfill.sorted(by: { $0.key < $1.key }) {
            let sql =
                level == .full
                ? "SELECT field, body FROM changes WHERE case_id = ? AND seq <= ? ORDER BY seq"
                : "SELECT field, body FROM changes WHERE entity = 'case' AND record = ? AND seq <= ? ORDER BY seq"
            let backfill = try Row.fetchCursor(db, sql: sql, arguments: [caseID, cursor.seq])
            while let row = try backfill.next() {
                if level == .full || StoreCoding.isStubField(row[0]) { changes.append(row[1]) }
            }
        }
        for event in plan.eventBackfill {
            changes += try String.fetchAll(
                db, sql: "SELECT body FROM changes WHERE entity = 'event' AND record = ? AND seq <= ? ORDER BY seq",
                arguments: [event, cursor.seq])
        }
        changes += rows.filter { PullPlanner.visible($0, access: plan.current) }.map(\.json)
        for (caseID, level) in plan.updates {
            // Keep the level the client has stored (the newest at or below the acknowledged
            // generation) and the new one; older rows can never matter again.
            try db.execute(
                sql: """
                    DELETE FROM device_access WHERE device = ? AND case_id = ? AND generation < (
                        SELECT coalesce(max(generation), 0) FROM device_access
                        WHERE device = ? AND case_id = ? AND generation <= ?)
                    """, arguments: [device.rawValue, caseID, device.rawValue, caseID, kept])
            try db.execute(
                sql: "INSERT INTO device_access (device, case_id, generation, level) VALUES (?, ?, ?, ?)",
                arguments: [device.rawValue, caseID, newGeneration, level.rawValue])
        }
        // A response that hands out nothing new keeps the cursor's generation.
        var nextGeneration = cursor.generation
        if !plan.updates.isEmpty {
            try db.execute(
                sql: "UPDATE devices SET generation = ? WHERE id = ?", arguments: [newGeneration, device.rawValue])
            nextGeneration = newGeneration
        }
        return PullPage(
            changes: changes, purges: plan.purgedRecords,
            nextCursor: PullCursor(seq: rows.last?.seq ?? cursor.seq, generation: nextGeneration), hasMore: hasMore,
            fullReconcile: fullReconcile)
    }

    public func record(_ entity: Entity, _ id: String) async throws -> RecordState? {
        try await pool.read { db in
            try String.fetchOne(
                db, sql: "SELECT state FROM records WHERE entity = ? AND id = ?", arguments: [entity.rawValue, id]
            ).map(StoreCoding.state)
        }
    }

    public func records(_ entity: Entity) async throws -> [RecordState] {
        try await pool.read { db in
            try String.fetchAll(
                db, sql: "SELECT state FROM records WHERE entity = ? ORDER BY id", arguments: [entity.rawValue]
            ).map(StoreCoding.state)
        }
    }

    public func highestHLC() async throws -> HLC? {
        try await pool.read { db in try String.fetchOne(db, sql: "SELECT max(hlc) FROM changes").flatMap(HLC.init) }
    }

    public func epoch() async throws -> String {
        try await pool.read { db in
            guard let epoch = try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'epoch'") else {
                throw KakehashiError(.internalFailure, "the store has no epoch (store_meta)")
            }
            return epoch
        }
    }

    public func renewEpoch() async throws -> String {
        try await pool.write { db in
            try db.execute(sql: StoreSchema.renewEpoch.sqlite)
            return try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'epoch'") ?? ""
        }
    }

    public func check() async throws -> StoreCheck.Report {
        // One read transaction: the log and the states are checked as of one moment.
        try await pool.read { db in
            let version =
                try Self.migrator.appliedIdentifiers(db).compactMap { Int($0.dropFirst()) }.max() ?? 0
            let epoch = try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'epoch'") ?? ""
            var check = StoreCheck(schemaVersion: version, epoch: epoch)
            let seqs = try Int64.fetchCursor(db, sql: "SELECT seq FROM changes ORDER BY seq")
            while let seq = try seqs.next() { check.sequence(seq) }
            var current: RecordRef?
            var changes: [Change] = []
            var seen = Set<RecordRef>()
            func finish() throws {
                guard let ref = current else { return }
                let stored = try String.fetchOne(
                    db, sql: "SELECT state FROM records WHERE entity = ? AND id = ?",
                    arguments: [ref.entity.rawValue, ref.record]
                ).map(StoreCoding.state)
                check.record(ref, changes: changes, stored: stored)
                seen.insert(ref)
            }
            let rows = try Row.fetchCursor(
                db, sql: "SELECT entity, record, body, seq FROM changes ORDER BY entity, record, seq")
            while let row = try rows.next() {
                let seq: Int64 = row[3]
                guard let entity = Entity(rawValue: row[0]), let change = try? StoreCoding.change(row[2]) else {
                    check.unreadable("change \(seq) cannot be read")
                    continue
                }
                let ref = RecordRef(entity: entity, record: row[1])
                if ref != current {
                    try finish()
                    current = ref
                    changes = []
                }
                changes.append(change)
            }
            try finish()
            let orphans = try Row.fetchAll(db, sql: "SELECT entity, id FROM records").compactMap { row in
                Entity(rawValue: row[0]).map { RecordRef(entity: $0, record: row[1]) }
            }.filter { !seen.contains($0) }
            check.orphanStates(orphans)
            return check.finished()
        }
    }

    public func changeCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM changes") ?? 0 }
    }

    public func snapshot(entities: [Entity], since: Int64?) async throws -> LogSnapshot {
        // One read transaction: a WAL snapshot, so the states, the head and the history agree.
        try await pool.read { db in
            let head = try Int64.fetchOne(db, sql: "SELECT coalesce(max(seq), 0) FROM changes") ?? 0
            if let since, since > head { throw LogSnapshot.cursorAhead(since, head: head) }
            let latest = try String.fetchOne(db, sql: "SELECT max(hlc) FROM changes").flatMap(HLC.init)
            var states: [Entity: [RecordState]] = [:]
            for entity in entities {
                states[entity] = try String.fetchAll(
                    db, sql: "SELECT state FROM records WHERE entity = ? ORDER BY id", arguments: [entity.rawValue]
                ).map(StoreCoding.state)
            }
            var caseChangeTimes: [String: [Int64]] = [:]
            let times = try Row.fetchCursor(db, sql: "SELECT record, hlc FROM changes WHERE entity = 'case'")
            while let row = try times.next() {
                let text: String = row[1]
                if let hlc = HLC(text) { caseChangeTimes[row[0], default: []].append(hlc.millis) }
            }
            let stageWrites = try String.fetchAll(
                db, sql: "SELECT body FROM changes WHERE entity = 'case' AND field = 'stage' ORDER BY seq"
            ).map(StoreCoding.change)
            var changed: [RecordRef: [Change]]?
            if let since {
                var byRecord: [RecordRef: [Change]] = [:]
                let refs = try Row.fetchAll(
                    db, sql: "SELECT DISTINCT entity, record FROM changes WHERE seq > ?", arguments: [since]
                )
                .compactMap { row in Entity(rawValue: row[0]).map { RecordRef(entity: $0, record: row[1]) } }
                .filter { entities.contains($0.entity) }
                for ref in refs { byRecord[ref] = [] }
                for entity in entities {
                    let ids = refs.filter { $0.entity == entity }.map(\.record)
                    for chunk in StoreCoding.chunks(ids) {
                        let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                        var arguments: [any DatabaseValueConvertible] = [entity.rawValue]
                        arguments += chunk.map { $0 as any DatabaseValueConvertible }
                        arguments.append(since)
                        let bodies = try String.fetchAll(
                            db,
                            sql:
                                "SELECT body FROM changes WHERE entity = ? AND record IN (\(marks)) AND seq <= ? ORDER BY seq",
                            arguments: StatementArguments(arguments))
                        for body in bodies {
                            let change = try StoreCoding.change(body)
                            byRecord[RecordRef(entity: entity, record: change.record), default: []].append(change)
                        }
                    }
                }
                changed = byRecord
            }
            return LogSnapshot(
                head: head, latest: latest, states: states,
                caseChangeTimes: caseChangeTimes, stageWrites: stageWrites, changedSince: changed)
        }
    }

    public func addEnrollmentCode(hash: String, advisor: String, createdAt: Int64, expiresAt: Int64) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO enrollment_codes (code_hash, advisor, created_at, expires_at) VALUES (?, ?, ?, ?)",
                arguments: [hash, advisor, createdAt, expiresAt])
        }
    }

    public func redeemEnrollmentCode(
        hash: String, device: DeviceRecord, tokenHash: String, now: Int64
    ) async throws
        -> String?
    {
        try await pool.write { db in
            guard
                let advisor = try String.fetchOne(
                    db,
                    sql:
                        "SELECT advisor FROM enrollment_codes WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?",
                    arguments: [hash, now])
            else { return nil }
            try db.execute(
                sql: "UPDATE enrollment_codes SET used_at = ?, device = ? WHERE code_hash = ?",
                arguments: [now, device.id.rawValue, hash])
            try db.execute(
                sql: "INSERT INTO devices (id, advisor, name, token_hash, enrolled_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [device.id.rawValue, advisor, device.name, tokenHash, device.enrolledAt])
            return advisor
        }
    }

    public func device(tokenHash: String) async throws -> (device: DeviceRecord, tokenHash: String)? {
        try await pool.read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT id, advisor, name, enrolled_at, revoked_at, token_hash FROM devices WHERE token_hash = ?",
                arguments: [tokenHash]
            ).flatMap { row in Self.device(row).map { ($0, row[5]) } }
        }
    }

    public func devices() async throws -> [DeviceRecord] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, advisor, name, enrolled_at, revoked_at FROM devices ORDER BY enrolled_at, id"
            ).compactMap(Self.device)
        }
    }

    public func revoke(_ device: DeviceID, at: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE devices SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?",
                arguments: [at, device.rawValue])
            return db.changesCount > 0
        }
    }

    public func recordActivity(_ activity: [DeviceActivityRecord]) async throws {
        guard !activity.isEmpty else { return }
        try await pool.write { db in
            for record in activity {
                try db.execute(
                    sql: """
                        UPDATE devices SET last_seen_at = max(coalesce(last_seen_at, 0), ?),
                            app_version = coalesce(?, app_version), pulled_seq = coalesce(?, pulled_seq)
                        WHERE id = ?
                        """,
                    arguments: [record.lastSeenAt, record.appVersion, record.pulledSeq, record.device.rawValue])
            }
        }
    }

    public func deviceHealth() async throws -> DeviceHealthReport {
        try await pool.read { db in
            let head = try Int64.fetchOne(db, sql: "SELECT coalesce(max(seq), 0) FROM changes") ?? 0
            let devices = try Row.fetchAll(
                db,
                sql: "SELECT id, advisor, revoked_at, app_version, last_seen_at, pulled_seq FROM devices ORDER BY id"
            ).compactMap { row -> DeviceHealth? in
                guard let id = DeviceID(row[0]) else { return nil }
                let revokedAt: Int64? = row[2]
                return DeviceHealth(
                    id: id, advisor: row[1], revoked: revokedAt != nil, appVersion: row[3], lastSeenAt: row[4],
                    pulledSeq: row[5])
            }
            return DeviceHealthReport(head: head, devices: devices)
        }
    }

    /// Moves everything from the WAL into the database file before closing, so that a stopped
    /// server's `.sqlite` file alone is the whole store. (Another process still reading, such as
    /// an admin command, may keep the checkpoint from finishing; the last one to close completes it.)
    public func close() async {
        _ = try? await pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        try? pool.close()
    }

    public func backup(to path: String) async throws {
        let files = FileManager.default
        guard !files.fileExists(atPath: path) else {
            throw KakehashiError.invalid("out", "\(path) already exists; give a new file name")
        }
        let partial = path + ".partial-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        do {
            defer { try? files.removeItem(atPath: partial) }
            let destination = try DatabaseQueue(path: partial)
            // A read transaction of the live store: writers go on while the pages are copied.
            try pool.backup(to: destination)
            try await destination.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
            try destination.close()
            guard chmod(partial, 0o600) == 0, link(partial, path) == 0 else {
                throw KakehashiError(
                    .unavailable, field: "out", "cannot create \(path): \(String(cString: strerror(errno)))")
            }
        } catch let error as KakehashiError {
            throw error
        } catch {
            throw KakehashiError(
                .unavailable, field: "out", "cannot write the backup to \(path)", cause: UnderlyingError(error))
        }
    }

    private static func caseStates(_ ids: [String], _ db: Database) throws -> [String: RecordState] {
        var states: [String: RecordState] = [:]
        for chunk in StoreCoding.chunks(ids) {
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            for row in try Row.fetchAll(
                db, sql: "SELECT id, state FROM records WHERE entity = 'case' AND id IN (\(marks))",
                arguments: StatementArguments(Array(chunk)))
            {
                states[row[0]] = try StoreCoding.state(row[1])
            }
        }
        return states
    }

    /// The level last handed to `device` per case (the newest row; rows newer than the request's
    /// cursor were deleted before this is called).
    private static func recordedLevels(
        _ device: DeviceID, _ ids: [String], _ db: Database
    ) throws
        -> [String: AccessPolicy.Access]
    {
        var recorded: [String: AccessPolicy.Access] = [:]
        for chunk in StoreCoding.chunks(ids) {
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            for row in try Row.fetchAll(
                db,
                sql: "SELECT case_id, level FROM device_access WHERE device = ? AND case_id IN (\(marks)) "
                    + "ORDER BY generation",
                arguments: StatementArguments([device.rawValue] + Array(chunk)))
            {
                recorded[row[0]] = AccessPolicy.Access(rawValue: row[1]) ?? AccessPolicy.Access.none
            }
        }
        return recorded
    }

    private static func device(_ row: Row) -> DeviceRecord? {
        guard let id = DeviceID(row[0]) else { return nil }
        return DeviceRecord(id: id, advisor: row[1], name: row[2], enrolledAt: row[3], revokedAt: row[4])
    }

    private static func load(_ refs: Set<RecordRef>, into states: inout [RecordRef: RecordState], _ db: Database) throws
    {
        for ref in refs where states[ref] == nil {
            if let text = try String.fetchOne(
                db, sql: "SELECT state FROM records WHERE entity = ? AND id = ?",
                arguments: [ref.entity.rawValue, ref.record])
            {
                states[ref] = try StoreCoding.state(text)
            }
        }
    }
}
