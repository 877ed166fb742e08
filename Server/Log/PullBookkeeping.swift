import KakehashiShared

/// The device's access bookkeeping as one pull response sees it: the checks of the cursor, and
/// the levels the response hands out under a new generation. Both operations that answer pulls
/// (`PullOperation` in the change stream, `BootstrapOperation` while states are sent) keep their
/// bookkeeping through it, so they record alike.
struct PullBookkeeping {
    let device: DeviceID
    let cursor: PullCursor
    /// The newest generation the client has stored (`PullRequest.acknowledged`).
    let kept: Int64
    /// The device's generation, read in the response's transaction.
    private(set) var generation: Int64 = 0
    /// Whether the device holds bookkeeping of responses after the cursor, which it never stored.
    private(set) var forget = false

    init(device: DeviceID, cursor: PullCursor, acknowledged: PullCursor?) {
        self.device = device
        self.cursor = cursor
        kept = min(acknowledged?.generation ?? cursor.generation, cursor.generation)
    }

    /// The device's bookkeeping and the log's head, to be read first (`begin`).
    func firstReads() -> LogReads {
        var reads = LogReads()
        reads.device = LogReads.DeviceRead(device: device, generation: cursor.generation)
        reads.head = true
        return reads
    }

    /// Takes in the answers to `firstReads`.
    /// - Throws: `KakehashiError` (field `after`) for a cursor the log never issued to this device.
    mutating func begin(with facts: LogFacts) throws {
        guard let generation = facts.deviceGeneration, cursor.generation <= generation, cursor.seq <= facts.head
        else { throw PullOperation.unknownCursor(cursor) }
        self.generation = generation
        forget = facts.newerBookkeeping
    }

    /// The read of the levels last handed to the device for `cases`, as the cursor knows them.
    func levels(of cases: [String]) -> LogReads.LevelsRead {
        LogReads.LevelsRead(device: device, cases: cases, generation: cursor.generation)
    }

    /// The generation of the response's cursor: a response that hands out nothing new keeps the
    /// cursor's.
    func nextGeneration(handingOut updates: [String: AccessPolicy.Access]) -> Int64 {
        updates.isEmpty ? cursor.generation : generation + 1
    }

    /// Forgets what responses after the cursor handed out (the client never stored them), and
    /// records the levels handed out now under a new generation.
    func writes(handingOut updates: [String: AccessPolicy.Access]) -> LogWrites {
        var writes = LogWrites()
        if forget { writes.forgetBookkeeping = LogReads.DeviceRead(device: device, generation: cursor.generation) }
        guard !updates.isEmpty else { return writes }
        let newGeneration = generation + 1
        writes.levels = updates.sorted(by: { $0.key < $1.key }).map { caseID, level in
            LogWrites.Level(device: device, caseID: caseID, generation: newGeneration, level: level, kept: kept)
        }
        writes.deviceGeneration = (device, newGeneration)
        return writes
    }
}
