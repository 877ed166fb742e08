import KakehashiShared

/// One operation on the change log, written once for both stores as a state machine without
/// I/O: it asks for reads (`LogReads`), decides from what they return (`LogFacts`), and ends with
/// the writes to make (`LogWrites`) and its result.
///
/// A store runs an operation inside one transaction of its own kind: it answers each read in its
/// own SQL, makes the writes, and returns the result. Stores decide nothing; every access and
/// merge decision is taken here and in the planners (`PushPlanner`, `PullPlanner`). SQLite runs
/// the loop inside GRDB's synchronous transaction closure, PostgreSQL awaiting each query, which
/// is why the algorithm is a state machine rather than code that calls the store.
protocol LogOperation<Result> {
    associatedtype Result

    /// The first reads, or the end when the operation needs none.
    mutating func start() throws -> LogStep<Result>
    /// Goes on with the answers to the reads of the last step.
    mutating func resume(with facts: LogFacts) throws -> LogStep<Result>
    /// Whether a store whose readers run beside its writer (SQLite's WAL) should run the
    /// operation in a read transaction first, and again in a write only when it ends with
    /// writes: true for pulls, which mostly hand out nothing new.
    var triesReadOnlyFirst: Bool { get }
    /// Whether the operation already knows that it will end with writes. A read-only attempt
    /// (`triesReadOnlyFirst`) stops as soon as this is true instead of computing a result it
    /// would throw away; false when not known yet.
    var willWrite: Bool { get }
}

extension LogOperation {
    var triesReadOnlyFirst: Bool { true }
    var willWrite: Bool { false }
}

/// What a log operation wants next.
enum LogStep<Result> {
    /// Read these, then `resume` with the answers.
    case read(LogReads)
    /// Make these writes (in the same transaction), and answer the request with the result.
    case finish(LogWrites, Result)
}
