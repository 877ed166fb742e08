import KakehashiShared

/// A snapshot (`SnapshotOperation`) followed, in the same read, by every state of one more entity
/// page by page in id order, handed to a `SnapshotStream` as it comes: an export reads a log's
/// events this way, in memory that does not grow with them.
struct StreamedSnapshotOperation: LogOperation {
    private var snapshot: SnapshotOperation
    private let entity: Entity
    private let pageSize: Int
    private let stream: any SnapshotStream
    /// The id the next page starts after; nil until the snapshot is read.
    private var after: String?

    init(entities: [Entity], streaming entity: Entity, pageSize: Int, into stream: any SnapshotStream) {
        precondition(pageSize > 0 && !entities.contains(entity), "a streamed entity is read in pages only")
        snapshot = SnapshotOperation(entities: entities, since: nil)
        self.entity = entity
        self.pageSize = pageSize
        self.stream = stream
    }

    mutating func start() throws -> LogStep<Void> {
        try following(snapshot.start())
    }

    mutating func resume(with facts: LogFacts) throws -> LogStep<Void> {
        guard after != nil else { return try following(snapshot.resume(with: facts)) }
        let page = facts.statesPage
        if !page.isEmpty { try stream.consume(page) }
        if let last = page.last, page.count == pageSize {
            self.after = last.id
        } else if try stream.endOfPass() {
            self.after = ""
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

/// What takes a log's states of one entity page by page
/// (`ChangeLogStore.snapshot(entities:streaming:pageSize:into:)`), inside the read that took the
/// snapshot of the others: a stream writing files holds a page at a time, not the entity.
///
/// The store calls it from one task, one call at a time, in order.
public protocol SnapshotStream: AnyObject, Sendable {
    /// The snapshot of the other entities, before any page.
    func begin(_ snapshot: LogSnapshot) throws
    /// The next states, in id order, deleted records included.
    func consume(_ page: [RecordState]) throws
    /// The end of one pass over the entity's states: true to read them all again from the first.
    func endOfPass() throws -> Bool
}
