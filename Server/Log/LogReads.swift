import KakehashiShared

/// What a log operation asks its store to read, inside the operation's transaction. Each field
/// that is set is one read, answered in the `LogFacts` field of the same name.
struct LogReads: Sendable {
    /// The device whose token hashes to this (revoked or not) and its advisor's directory record
    /// (`LogFacts.sessionDevice`, `LogFacts.sessionAdvisor`).
    var session: String?
    /// The log's epoch (`LogFacts.epoch`).
    var epoch = false
    /// Whether the log holds no change at all (`LogFacts.logIsEmpty`).
    var logIsEmpty = false
    /// Which of these change ids the log holds (`LogFacts.knownChanges`).
    var changeIDs: [ChangeID] = []
    /// The records, of any entity, with these ids (`LogFacts.existingRecords`).
    var recordIDs: [String] = []
    /// The merged states of these records; a record never written has none (`LogFacts.states`).
    var states: Set<RecordRef> = []
    /// What decides access to these cases, read from their states without decoding them whole;
    /// a case never written has none (`LogFacts.caseFacts`).
    var caseFacts: Set<String> = []
    /// The events with a `referred_to` write logged under these cases (`LogFacts.referralEvents`).
    var referralCases: [String] = []
    /// A device's pull bookkeeping (`LogFacts.deviceGeneration`, `LogFacts.newerBookkeeping`).
    /// PostgreSQL locks the device's row with it, so pulls of one device run one at a time.
    var device: DeviceRead?
    /// The log's head: its highest sequence number (`LogFacts.head`).
    var head = false
    /// The newest HLC in the log (`LogFacts.latest`).
    var latest = false
    /// Log rows after a sequence number, in order (`LogFacts.rows`).
    var rows: RowsRead?
    /// Log rows of one record's history, in order (`LogFacts.rows`; not with `rows`).
    var scopedRows: ScopedRowsRead?
    /// The events with a change logged under these cases (`LogFacts.caseEvents`).
    var eventCases: [String] = []
    /// Which of these cases have a change logged under them up to a sequence number
    /// (`LogFacts.loggedCases`).
    var loggedCases: LoggedCasesRead?
    /// The next cases, in id order, with what decides access to them (`LogFacts.caseChunk`).
    var caseChunk: ChunkRead?
    /// The level last handed to a device for each of these cases (`LogFacts.recordedLevels`).
    var recordedLevels: LevelsRead?
    /// Logged changes up to a sequence number (`LogFacts.histories`, one answer per read, in order).
    var histories: [HistoryRead] = []
    /// Every state of these entities, in id order (`LogFacts.entityStates`).
    var entityStates: [Entity] = []
    /// The HLC of every change to a case (`LogFacts.caseChangeTimes`).
    var caseChangeTimes = false
    /// The body of every logged write of a case's stage, in log order (`LogFacts.stageWrites`).
    var stageWrites = false
    /// The records with a change after this sequence number (`LogFacts.changedRecords`).
    var changedSince: Int64?
    /// The next states of one entity, in id order, deleted ones included (`LogFacts.statesPage`).
    var statesPage: StatesPageRead?

    /// A device's generation, and whether it holds bookkeeping newer than `generation`.
    struct DeviceRead: Sendable, Hashable {
        let device: DeviceID
        let generation: Int64
    }

    /// At most `limit` rows with a sequence number above `after`; without `text`, a row that
    /// has its binary coding is read without its JSON text (`StoredChange.text` empty), which
    /// only JSON pages splice: building a string of every row's JSON that a binary page never
    /// sends was a tenth of a pull's work.
    struct RowsRead: Sendable, Hashable {
        let after: Int64
        let limit: Int
        var text = true
    }

    /// At most `limit` rows of `scope`'s history (a case: the case and every event logged under
    /// it; an event: the event) with a sequence number above `after` and at most `upTo`.
    struct ScopedRowsRead: Sendable, Hashable {
        let scope: RecordRef
        let after: Int64
        let upTo: Int64
        let limit: Int
    }

    /// At most `limit` cases with an id above `after`.
    struct ChunkRead: Sendable, Hashable {
        let after: String
        let limit: Int
    }

    /// At most `limit` states of `entity` with an id above `after`.
    struct StatesPageRead: Sendable, Hashable {
        let entity: Entity
        let after: String
        let limit: Int
    }

    /// The cases of `cases` with a change logged under them (`changes.case_id`: the case's own
    /// and its events') at a sequence number up to `upTo`.
    struct LoggedCasesRead: Sendable, Hashable {
        let cases: [String]
        let upTo: Int64
    }

    /// The newest level `device` was handed for each of `cases`, in bookkeeping of generation
    /// `generation` or older (newer bookkeeping is about responses the device never stored).
    struct LevelsRead: Sendable, Hashable {
        let device: DeviceID
        let cases: [String]
        let generation: Int64
    }

    /// The logged changes of one scope with a sequence number up to `upTo`, in log order.
    struct HistoryRead: Sendable, Hashable {
        enum Scope: Sendable, Hashable {
            /// A case and every event logged under it (`changes.case_id`).
            case caseWithEvents(String)
            /// One record.
            case record(RecordRef)
        }

        let scope: Scope
        let upTo: Int64
    }
}

/// The answers to `LogReads`, field by field; fields not asked for keep their defaults.
struct LogFacts: Sendable {
    /// Nil when no device has the token.
    var sessionDevice: (device: DeviceRecord, tokenHash: String)?
    /// Nil when the advisor has no directory record.
    var sessionAdvisor: RecordState?
    /// Nil when the store has none (`store_meta`).
    var epoch: String?
    var logIsEmpty = false
    var knownChanges: Set<ChangeID> = []
    var existingRecords: [RecordRef] = []
    var states: [RecordRef: RecordState] = [:]
    var caseFacts: [String: AccessPolicy.CaseFacts] = [:]
    var referralEvents: [String] = []
    /// Nil for a device the store does not know.
    var deviceGeneration: Int64?
    var newerBookkeeping = false
    var head: Int64 = 0
    var latest: HLC?
    var rows: [LogRow] = []
    /// Per case asked for, the ids of the events logged under it, in id order.
    var caseEvents: [String: [String]] = [:]
    var loggedCases: Set<String> = []
    var caseChunk: [(id: String, facts: AccessPolicy.CaseFacts)] = []
    /// Missing: nothing was handed out (`.none`).
    var recordedLevels: [String: AccessPolicy.Access] = [:]
    /// The generations of `recordedLevels`' entries, while they are read.
    private var recordedGenerations: [String: Int64] = [:]
    var histories: [[LoggedChange]] = []
    var entityStates: [Entity: [RecordState]] = [:]
    var caseChangeTimes: [(record: String, hlc: String)] = []
    var stageWrites: [StoredChange] = []
    var changedRecords: [RecordRef] = []
    var statesPage: [StoredState] = []
}

extension LogFacts {
    /// Takes in one bookkeeping row read for `LogReads.recordedLevels`: a case's level as of a
    /// generation, kept when it is the newest read for that case. The stores read the rows in no
    /// order: ordering them by generation made SQLite walk every row the device has (its
    /// `(device, generation)` index) instead of seeking each case in the primary key, a cost that
    /// grew with the cases a device holds.
    mutating func recordLevel(_ level: AccessPolicy.Access, of caseID: String, generation: Int64) {
        if let newest = recordedGenerations[caseID], newest >= generation { return }
        recordedGenerations[caseID] = generation
        recordedLevels[caseID] = level
    }
}

/// One logged change as a history read returns it: its field (nil for a delete) and the change.
struct LoggedChange: Sendable, Hashable {
    let field: String?
    let change: StoredChange
}
