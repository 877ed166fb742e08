import KakehashiShared

/// A snapshot (`SnapshotOperation`) followed, in the same read, by every state of one more entity
/// page by page in id order, handed to a `SnapshotStream` as it comes: an export reads a log's
/// events this way, in memory that does not grow with them.
///
/// With a `since` cursor, the snapshot also holds the other entities' histories up to the cursor
/// (`LogSnapshot.changedSince`), and each page comes with the histories up to the cursor of its
/// records changed after it (`SnapshotPage.changedSince`), read page by page too: what is held
/// grows with what changed after the cursor, not with the log.
struct StreamedSnapshotOperation: LogOperation {
    private var snapshot: SnapshotOperation
    private let entity: Entity
    private let since: Int64?
    private let pageSize: Int
    private let stream: any SnapshotStream
    /// The id the next page starts after; nil until the snapshot is read.
    private var after: String?
    /// Whether the snapshot's first round, which lists the records changed after `since`, is read.
    private var listedChanged = false
    /// The streamed entity's records changed after `since`.
    private var changed = Set<String>()
    /// A page whose changed records' histories are being read, and those records in order.
    private var waiting: (page: [RecordState], changed: [String])?

    init(
        entities: [Entity], streaming entity: Entity, since: Int64?, pageSize: Int, into stream: any SnapshotStream
    ) {
        precondition(pageSize > 0 && !entities.contains(entity), "a streamed entity is read in pages only")
        snapshot = SnapshotOperation(entities: entities, since: since)
        self.entity = entity
        self.since = since
        self.pageSize = pageSize
        self.stream = stream
    }

    mutating func start() throws -> LogStep<Void> {
        try following(snapshot.start())
    }

    mutating func resume(with facts: LogFacts) throws -> LogStep<Void> {
        guard after != nil else {
            if !listedChanged {
                listedChanged = true
                for ref in facts.changedRecords where ref.entity == entity { changed.insert(ref.record) }
            }
            return try following(snapshot.resume(with: facts))
        }
        if let (page, ids) = waiting {
            waiting = nil
            var histories: [String: [Change]] = [:]
            for (id, history) in zip(ids, facts.histories) {
                histories[id] = try history.map { try StoreCoding.change($0.change) }
            }
            return try hand(SnapshotPage(entity: entity, states: page, changedSince: histories))
        }
        let page = try facts.statesPage.map { try $0.state() }
        guard let since else { return try hand(SnapshotPage(entity: entity, states: page, changedSince: nil)) }
        let ids = page.map(\.id).filter(changed.contains)
        guard !ids.isEmpty else { return try hand(SnapshotPage(entity: entity, states: page, changedSince: [:])) }
        waiting = (page, ids)
        var reads = LogReads()
        reads.histories = ids.map {
            LogReads.HistoryRead(scope: .record(RecordRef(entity: entity, record: $0)), upTo: since)
        }
        return .read(reads)
    }

    /// Hands a page to the stream, then reads the next page, starts another pass or ends.
    private mutating func hand(_ page: SnapshotPage) throws -> LogStep<Void> {
        if !page.states.isEmpty { try stream.consume(page) }
        if let last = page.states.last, page.states.count == pageSize {
            after = last.id
        } else if try stream.endOfPass() {
            after = ""
        } else {
            return .finish(LogWrites(), ())
        }
        return nextPage()
    }

    /// Passes the snapshot's reads on; once it is read, hands it to the stream and starts paging.
    private mutating func following(_ step: LogStep<LogSnapshot>) throws -> LogStep<Void> {
        switch step {
        case .read(let reads):
            return .read(reads)
        case .finish(_, let result):
            try stream.begin(result)
            after = ""
            return nextPage()
        }
    }

    private func nextPage() -> LogStep<Void> {
        var reads = LogReads()
        reads.statesPage = .init(entity: entity, after: after ?? "", limit: pageSize)
        return .read(reads)
    }
}

/// One page of a streamed entity's states (`SnapshotStream.consume`).
public struct SnapshotPage: Sendable {
    public let entity: Entity
    /// The next states, in id order, deleted records included.
    public let states: [RecordState]
    /// With a `since` cursor: the page's records changed after it, each with its changes up to and
    /// including it (empty for a record created after it). Nil without a cursor.
    public let changedSince: [String: [Change]]?

    /// `state`'s record as it was at the `since` cursor: the state itself when it has not changed
    /// since, rebuilt from its changes up to the cursor when it has, nil when it was created after
    /// the cursor (`LogSnapshot.atSince` by the same rule).
    public func earlier(_ state: RecordState) -> RecordState? {
        guard let changes = changedSince?[state.id] else { return state }
        return LogSnapshot.state(of: RecordRef(entity: entity, record: state.id), upToSince: changes)
    }
}

/// What takes a log's states of one entity page by page
/// (`ChangeLogStore.snapshot(entities:streaming:since:pageSize:into:)`), inside the read that took
/// the snapshot of the others: a stream writing files holds a page at a time, not the entity.
///
/// The store calls it from one task, one call at a time, in order.
public protocol SnapshotStream: AnyObject, Sendable {
    /// The snapshot of the other entities, before any page.
    func begin(_ snapshot: LogSnapshot) throws
    /// The next page of states.
    func consume(_ page: SnapshotPage) throws
    /// The end of one pass over the entity's states: true to read them all again from the first.
    func endOfPass() throws -> Bool
}
