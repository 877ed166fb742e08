import Foundation
import GRDB
import KakehashiSQLite
import KakehashiShared

/// The SQLite side of the log operations (`LogOperation`): one loop that runs an operation in
/// the caller's transaction, and the SQL that answers its reads and makes its writes.
extension SQLiteStore {
    /// Runs `operation` to its end in `db`'s transaction.
    /// - Parameter writable: false in a read transaction: the result is returned only when the
    ///   operation ends without writes, nil otherwise (the caller runs it again in a write), as
    ///   soon as the operation knows it will write (`LogOperation.willWrite`).
    static func run<Operation: LogOperation>(
        _ operation: Operation, _ db: Database, writable: Bool = true
    ) throws -> Operation.Result? {
        var operation = operation
        var step = try operation.start()
        while true {
            switch step {
            case .read(let reads):
                step = try operation.resume(with: read(reads, db))
                if !writable, operation.willWrite { return nil }
            case .finish(let writes, let result):
                guard writable else { return writes.isEmpty ? result : nil }
                try write(writes, db)
                return result
            }
        }
    }

    /// Answers one step's reads.
    static func read(_ reads: LogReads, _ db: Database) throws -> LogFacts {
        var facts = LogFacts()
        if let tokenHash = reads.session {
            if let row = try Row.fetchOne(
                try db.cachedStatement(
                    sql: """
                        SELECT d.id, d.advisor, d.name, d.enrolled_at, d.revoked_at, d.token_hash, r.state
                        FROM devices d LEFT JOIN records r ON r.entity = 'advisor' AND r.id = d.advisor
                        WHERE d.token_hash = ?
                        """),
                arguments: [tokenHash]),
                let device = Self.device(row)
            {
                facts.sessionDevice = (device, row[5])
                facts.sessionAdvisor = try (row[6] as Data?).map {
                    try StoreCoding.state($0, entity: .advisor, id: device.advisor)
                }
            }
        }
        if reads.epoch {
            facts.epoch = try String.fetchOne(
                try db.cachedStatement(sql: "SELECT value FROM store_meta WHERE key = 'epoch'"))
        }
        if reads.logIsEmpty {
            facts.logIsEmpty = try
                !(Bool.fetchOne(
                    try db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM changes)")) ?? false)
        }
        for chunk in StoreCoding.chunks(reads.changeIDs.map(\.description)) {
            for text in try String.fetchAll(
                try db.cachedStatement(sql: "SELECT change_id FROM changes WHERE change_id IN (\(marks(chunk.count)))"),
                arguments: StatementArguments(Array(chunk)))
            {
                if let id = ChangeID(text) { facts.knownChanges.insert(id) }
            }
        }
        // Every entity named: the primary key `(entity, id)` finds each id (there is no index on
        // `id` alone since schema version 7).
        for chunk in StoreCoding.chunks(reads.recordIDs) {
            for row in try Row.fetchAll(
                try db.cachedStatement(
                    sql:
                        "SELECT entity, id FROM records WHERE entity IN (\(allEntities)) AND id IN (\(marks(chunk.count)))"
                ),
                arguments: StatementArguments(Array(chunk)))
            {
                if let entity = Entity(rawValue: row[0]) {
                    facts.existingRecords.append(RecordRef(entity: entity, record: row[1]))
                }
            }
        }
        // One statement per entity and `IN` list: each record is read once.
        for (entity, refs) in Dictionary(grouping: reads.states, by: \.entity) {
            for chunk in StoreCoding.chunks(refs.map(\.record).sorted()) {
                let rows = try Row.fetchCursor(
                    try db.cachedStatement(
                        sql: "SELECT id, state FROM records WHERE entity = ? AND id IN (\(marks(chunk.count)))"),
                    arguments: StatementArguments([entity.rawValue] + Array(chunk)))
                while let row = try rows.next() {
                    let id: String = row[0]
                    facts.states[RecordRef(entity: entity, record: id)] = try StoreCoding.state(
                        row[1], entity: entity, id: id)
                }
            }
        }
        for chunk in StoreCoding.chunks(reads.caseFacts.sorted()) {
            let rows = try Row.fetchCursor(
                try db.cachedStatement(
                    sql: "SELECT id, state FROM records WHERE entity = 'case' AND id IN (\(marks(chunk.count)))"),
                arguments: StatementArguments(Array(chunk)))
            while let row = try rows.next() {
                let id: String = row[0]
                facts.caseFacts[id] = try StoreCoding.caseFacts(row[1], id: id)
            }
        }
        // `+entity`: without the plus SQLite searches `changes_by_record` by the entity alone,
        // every event change of the log, instead of the cases' rows in `changes_by_case`
        // (EXPLAIN QUERY PLAN).
        for chunk in StoreCoding.chunks(reads.referralCases) {
            facts.referralEvents += try String.fetchAll(
                try db.cachedStatement(
                    sql: """
                        SELECT DISTINCT record FROM changes
                        WHERE case_id IN (\(marks(chunk.count))) AND +entity = 'event' AND field = 'referred_to'
                        """),
                arguments: StatementArguments(Array(chunk)))
        }
        if let read = reads.device {
            facts.deviceGeneration = try Int64.fetchOne(
                try db.cachedStatement(sql: "SELECT generation FROM devices WHERE id = ?"),
                arguments: [read.device.rawValue])
            facts.newerBookkeeping =
                try Bool.fetchOne(
                    try db.cachedStatement(
                        sql: "SELECT EXISTS (SELECT 1 FROM device_access WHERE device = ? AND generation > ?)"),
                    arguments: [read.device.rawValue, read.generation]) ?? false
        }
        if reads.head {
            facts.head =
                try Int64.fetchOne(
                    try db.cachedStatement(sql: "SELECT coalesce(max(seq), 0) FROM changes")) ?? 0
        }
        if reads.latest {
            facts.latest = try latestHLC(db)
        }
        if let read = reads.rows {
            let rows = try Row.fetchCursor(
                try db.cachedStatement(
                    sql: """
                        SELECT seq, entity, record, field, case_id,
                            CASE WHEN ? OR packed IS NULL THEN body ELSE '' END, moved_from, packed
                        FROM changes WHERE seq > ? ORDER BY seq LIMIT ?
                        """),
                arguments: [read.text, read.after, read.limit])
            facts.rows += try Self.logRows(rows)
        }
        if let read = reads.scopedRows {
            let scope = read.scope
            let rows = try Row.fetchCursor(
                try db.cachedStatement(
                    sql: scope.entity == .case
                        ? """
                        SELECT seq, entity, record, field, case_id, body, moved_from, packed FROM changes
                        WHERE case_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?
                        """
                        : """
                        SELECT seq, entity, record, field, case_id, body, moved_from, packed FROM changes
                        WHERE entity = 'event' AND record = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?
                        """),
                arguments: [scope.record, read.after, read.upTo, read.limit])
            facts.rows += try Self.logRows(rows)
        }
        // `+entity` as for `referralCases` above.
        for chunk in StoreCoding.chunks(reads.eventCases) {
            for row in try Row.fetchAll(
                try db.cachedStatement(
                    sql: """
                        SELECT DISTINCT case_id, record FROM changes
                        WHERE case_id IN (\(marks(chunk.count))) AND +entity = 'event' ORDER BY record
                        """),
                arguments: StatementArguments(Array(chunk)))
            {
                facts.caseEvents[row[0], default: []].append(row[1])
            }
        }
        // One search per case that stops at its first row, instead of every row it has.
        for chunk in StoreCoding.chunks(reads.loggedCases?.cases ?? []) {
            facts.loggedCases.formUnion(
                try String.fetchAll(
                    try db.cachedStatement(
                        sql: """
                            WITH asked(id) AS (VALUES \(tuples(chunk.count, of: 1)))
                            SELECT id FROM asked
                            WHERE EXISTS (SELECT 1 FROM changes WHERE case_id = asked.id AND seq <= ?)
                            """),
                    arguments: StatementArguments(
                        chunk.map { $0 as any DatabaseValueConvertible } + [reads.loggedCases?.upTo ?? 0])))
        }
        if let read = reads.caseChunk {
            facts.caseChunk = try Row.fetchAll(
                try db.cachedStatement(
                    sql: "SELECT id, state FROM records WHERE entity = 'case' AND id > ? ORDER BY id LIMIT ?"),
                arguments: [read.after, read.limit]
            ).map { row in (row[0], try StoreCoding.caseFacts(row[1], id: row[0])) }
        }
        if let read = reads.recordedLevels {
            for chunk in StoreCoding.chunks(read.cases) {
                // In no order (`LogFacts.recordLevel` keeps each case's newest): each case is
                // sought in the primary key.
                for row in try Row.fetchAll(
                    try db.cachedStatement(
                        sql: """
                            SELECT case_id, level, generation FROM device_access
                            WHERE device = ? AND generation <= ? AND case_id IN (\(marks(chunk.count)))
                            """),
                    arguments: StatementArguments(
                        [read.device.rawValue, read.generation] as [any DatabaseValueConvertible]
                            + chunk.map { $0 as any DatabaseValueConvertible }))
                {
                    facts.recordLevel(
                        AccessPolicy.Access(rawValue: row[1]) ?? AccessPolicy.Access.none, of: row[0],
                        generation: row[2])
                }
            }
        }
        for read in reads.histories {
            let rows: [Row]
            switch read.scope {
            case .caseWithEvents(let caseID):
                rows = try Row.fetchAll(
                    try db.cachedStatement(
                        sql: "SELECT field, body, packed FROM changes WHERE case_id = ? AND seq <= ? ORDER BY seq"),
                    arguments: [caseID, read.upTo])
            case .record(let ref):
                rows = try Row.fetchAll(
                    try db.cachedStatement(
                        sql:
                            "SELECT field, body, packed FROM changes WHERE entity = ? AND record = ? AND seq <= ? ORDER BY seq"
                    ),
                    arguments: [ref.entity.rawValue, ref.record, read.upTo])
            }
            facts.histories.append(rows.map { LoggedChange(field: $0[0], change: Self.stored($0, json: 1, binary: 2)) })
        }
        for entity in reads.entityStates {
            facts.entityStates[entity] = try Self.states(of: entity, db)
        }
        if reads.caseChangeTimes {
            let rows = try Row.fetchCursor(
                try db.cachedStatement(sql: "SELECT record, hlc FROM changes WHERE entity = 'case'"))
            while let row = try rows.next() { facts.caseChangeTimes.append((row[0], row[1])) }
        }
        if reads.stageWrites {
            facts.stageWrites = try Row.fetchAll(
                try db.cachedStatement(
                    sql: "SELECT body, packed FROM changes WHERE entity = 'case' AND field = 'stage' ORDER BY seq")
            ).map { Self.stored($0, json: 0, binary: 1) }
        }
        if let since = reads.changedSince {
            facts.changedRecords = try Row.fetchAll(
                try db.cachedStatement(
                    sql: "SELECT DISTINCT entity, record FROM changes WHERE seq > ? ORDER BY entity, record"),
                arguments: [since]
            ).compactMap { row in Entity(rawValue: row[0]).map { RecordRef(entity: $0, record: row[1]) } }
        }
        if let read = reads.statesPage {
            facts.statesPage = try Row.fetchAll(
                try db.cachedStatement(
                    sql: "SELECT id, state FROM records WHERE entity = ? AND id > ? ORDER BY id LIMIT ?"),
                arguments: [read.entity.rawValue, read.after, read.limit]
            ).map { row in StoredState(entity: read.entity, id: row[0], stored: row[1]) }
        }
        return facts
    }

    /// Makes one operation's writes, in `LogWrites`' order: the changes and the states in
    /// multi-row statements (`rowsPerInsert` rows each, well within SQLite's variable limit).
    static func write(_ writes: LogWrites, _ db: Database) throws {
        // The newest timestamp appended, as text: it sorts like the timestamp (`HLC.description`),
        // as `max(hlc)` compared it.
        var newest: String?
        for chunk in StoreCoding.chunks(writes.changes, size: rowsPerInsert) {
            // Bound value by value through SQLite's C interface: GRDB's `StatementArguments`
            // boxed and bound each value through closures, 8–9 % of the server's work on a push.
            var insert = try BoundStatement(
                db,
                sql:
                    "INSERT INTO changes (change_id, entity, record, field, case_id, hlc, body, moved_from, packed) VALUES "
                    + tuples(chunk.count, of: 9))
            insert.begin()
            for row in chunk {
                let change = row.change
                let hlc = change.hlc.description
                if newest.map({ hlc > $0 }) ?? true { newest = hlc }
                insert.bind(change.id.description)
                insert.bind(change.entity.rawValue)
                insert.bind(change.record)
                insert.bind(change.field)
                insert.bind(row.caseID)
                insert.bind(hlc)
                insert.bind(row.stored.text)
                insert.bind(row.movedFrom)
                if let binary = row.stored.binary { insert.bind(blob: binary) } else { insert.bindNull() }
            }
            try insert.execute()
        }
        if let newest {
            try db.cachedStatement(
                sql: """
                    INSERT INTO store_meta (key, value) VALUES ('latest_hlc', ?)
                    ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)
                    """
            ).execute(arguments: [newest])
        }
        if !writes.eventCases.isEmpty {
            let move = try db.cachedStatement(
                sql: "UPDATE changes SET case_id = ? WHERE entity = 'event' AND record = ?")
            for event in writes.eventCases { try move.execute(arguments: [event.caseID, event.event]) }
        }
        for chunk in StoreCoding.chunks(writes.states, size: rowsPerInsert) {
            var upsert = try BoundStatement(
                db,
                sql: "INSERT INTO records (entity, id, state) VALUES " + tuples(chunk.count, of: 3)
                    + " ON CONFLICT (entity, id) DO UPDATE SET state = excluded.state")
            upsert.begin()
            for state in chunk {
                upsert.bind(state.ref.entity.rawValue)
                upsert.bind(state.ref.record)
                upsert.bind(blob: state.packed)
            }
            try upsert.execute()
        }
        if let forget = writes.forgetBookkeeping {
            try db.cachedStatement(sql: "DELETE FROM device_access WHERE device = ? AND generation > ?")
                .execute(arguments: [forget.device.rawValue, forget.generation])
        }
        // Cached: a page that hands out a thousand levels (a bootstrap's case page) ran these two
        // statements a thousand times each, compiled and authorized every time.
        if !writes.levels.isEmpty {
            let replace = try db.cachedStatement(
                sql: """
                    DELETE FROM device_access WHERE device = ? AND case_id = ? AND generation < (
                        SELECT coalesce(max(generation), 0) FROM device_access
                        WHERE device = ? AND case_id = ? AND generation <= ?)
                    """)
            let insert = try db.cachedStatement(
                sql: "INSERT INTO device_access (device, case_id, generation, level) VALUES (?, ?, ?, ?)")
            for level in writes.levels {
                try replace.execute(
                    arguments: [level.device.rawValue, level.caseID, level.device.rawValue, level.caseID, level.kept])
                try insert.execute(
                    arguments: [level.device.rawValue, level.caseID, level.generation, level.level.rawValue])
            }
        }
        if let (device, generation) = writes.deviceGeneration {
            try db.cachedStatement(sql: "UPDATE devices SET generation = ? WHERE id = ?")
                .execute(arguments: [generation, device.rawValue])
        }
    }

    /// The newest timestamp in the log: kept in `store_meta` as changes are appended (schema
    /// version 7), since only one process writes an SQLite store and nothing else needs an index
    /// on `hlc`. `check` compares it with the rows.
    static func latestHLC(_ db: Database) throws -> HLC? {
        try String.fetchOne(
            try db.cachedStatement(sql: "SELECT value FROM store_meta WHERE key = 'latest_hlc'")
        ).flatMap(HLC.init)
    }

    /// Every entity, as the SQL list `'advisor','case',…`.
    private static let allEntities = Entity.allCases.map { "'\($0.rawValue)'" }.joined(separator: ",")

    /// Every state of `entity`, in id order.
    static func states(of entity: Entity, _ db: Database) throws -> [RecordState] {
        try Row.fetchAll(
            db, sql: "SELECT id, state FROM records WHERE entity = ? ORDER BY id", arguments: [entity.rawValue]
        ).map { row in try StoreCoding.state(row[1], entity: entity, id: row[0]) }
    }

    /// `?, ?, …` for an `IN` list of `count` values.
    private static func marks(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ",")
    }

    /// Rows per multi-row `INSERT`: 8 columns × 100 rows stay under 999 variables, the limit of
    /// SQLite builds older than 3.32.
    private static let rowsPerInsert = 100

    /// The log rows a query of `seq, entity, record, field, case_id, body, moved_from, packed`
    /// returns, in its order.
    private static func logRows(_ rows: RowCursor) throws -> [LogRow] {
        var read: [LogRow] = []
        while let row = try rows.next() {
            guard let entity = Entity(rawValue: row[1]) else { continue }
            read.append(
                LogRow(
                    seq: row[0], entity: entity, record: row[2], field: row[3], caseID: row[4],
                    change: stored(row, json: 5, binary: 7), movedFrom: row[6]))
        }
        return read
    }

    /// A logged change from the columns of `row` holding its JSON and its binary coding.
    private static func stored(_ row: Row, json: Int, binary: Int) -> StoredChange {
        StoredChange(json: row[json], binary: (row[binary] as Data?).map { [UInt8]($0) })
    }

    /// `(?, …), (?, …), …`: `count` rows of `columns` values for a multi-row `INSERT`.
    private static func tuples(_ count: Int, of columns: Int) -> String {
        let row = "(" + marks(columns) + ")"
        return Array(repeating: row, count: count).joined(separator: ",")
    }
}
