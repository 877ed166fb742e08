import Foundation
import KakehashiShared
import Logging
import PostgresNIO

/// The PostgreSQL side of the log operations (`LogOperation`): one loop that runs an operation
/// on the caller's transaction, and the SQL that answers its reads and makes its writes.
extension PostgresStore {
    /// Runs `operation` to its end on `connection`'s transaction.
    static func run<Operation: LogOperation>(
        _ operation: Operation, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Operation.Result {
        var operation = operation
        var step = try operation.start()
        while true {
            switch step {
            case .read(let reads):
                step = try operation.resume(with: await read(reads, connection, logger))
            case .finish(let writes, let result):
                try await write(writes, connection, logger)
                return result
            }
        }
    }

    /// Answers one step's reads.
    static func read(_ reads: LogReads, _ connection: PostgresConnection, _ logger: Logger) async throws -> LogFacts {
        var facts = LogFacts()
        if let tokenHash = reads.session {
            // `records.id` compares in "C", as every id does.
            for try await row in try await connection.query(
                """
                SELECT d.id, d.advisor, d.name, d.enrolled_at, d.revoked_at, d.token_hash, r.state
                FROM devices d LEFT JOIN records r ON r.entity = 'advisor' AND r.id = d.advisor COLLATE "C"
                WHERE d.token_hash = \(tokenHash)
                """, logger: logger
            ).decode((String, String, String?, Int64, Int64?, String, Data?).self) {
                guard let id = DeviceID(row.0) else { continue }
                let device = DeviceRecord(id: id, advisor: row.1, name: row.2, enrolledAt: row.3, revokedAt: row.4)
                facts.sessionDevice = (device, row.5)
                facts.sessionAdvisor = try row.6.map { try StoreCoding.state($0, entity: .advisor, id: row.1) }
            }
        }
        if reads.epoch {
            for try await epoch in try await connection.query(
                "SELECT value FROM store_meta WHERE key = 'epoch'", logger: logger
            ).decode(String.self) {
                facts.epoch = epoch
            }
        }
        if reads.logIsEmpty {
            for try await exists in try await connection.query(
                "SELECT EXISTS (SELECT 1 FROM changes)", logger: logger
            ).decode(Bool.self) {
                facts.logIsEmpty = !exists
            }
        }
        if !reads.changeIDs.isEmpty {
            let ids = reads.changeIDs.map(\.description)
            for try await text in try await connection.query(
                "SELECT change_id FROM changes WHERE change_id = ANY(\(ids))", logger: logger
            ).decode(String.self) {
                if let id = ChangeID(text) { facts.knownChanges.insert(id) }
            }
        }
        if !reads.recordIDs.isEmpty {
            for try await (entity, id) in try await connection.query(
                "SELECT entity, id FROM records WHERE id = ANY(\(reads.recordIDs))", logger: logger
            ).decode((String, String).self) {
                if let entity = Entity(rawValue: entity) {
                    facts.existingRecords.append(RecordRef(entity: entity, record: id))
                }
            }
        }
        for (entity, group) in Dictionary(grouping: reads.states, by: \.entity) {
            let ids = group.map(\.record)
            for try await (id, stored) in try await connection.query(
                "SELECT id, state FROM records WHERE entity = \(entity.rawValue) AND id = ANY(\(ids))", logger: logger
            ).decode((String, Data).self) {
                facts.states[RecordRef(entity: entity, record: id)] = try StoreCoding.state(
                    stored, entity: entity, id: id)
            }
        }
        if !reads.caseFacts.isEmpty {
            let ids = reads.caseFacts.sorted()
            for try await (id, stored) in try await connection.query(
                "SELECT id, state FROM records WHERE entity = 'case' AND id = ANY(\(ids))", logger: logger
            ).decode((String, Data).self) {
                facts.caseFacts[id] = try StoreCoding.caseFacts(stored, id: id)
            }
        }
        if !reads.referralCases.isEmpty {
            for try await event in try await connection.query(
                """
                SELECT DISTINCT record FROM changes
                WHERE case_id = ANY(\(reads.referralCases)) AND entity = 'event' AND field = 'referred_to'
                """, logger: logger
            ).decode(String.self) {
                facts.referralEvents.append(event)
            }
        }
        if let read = reads.device {
            // The row lock makes pulls of one device take turns with its bookkeeping.
            for try await generation in try await connection.query(
                "SELECT generation FROM devices WHERE id = \(read.device.rawValue) FOR UPDATE", logger: logger
            ).decode(Int64.self) {
                facts.deviceGeneration = generation
            }
            for try await exists in try await connection.query(
                """
                SELECT EXISTS (SELECT 1 FROM device_access WHERE device = \(read.device.rawValue)
                    AND generation > \(read.generation))
                """, logger: logger
            ).decode(Bool.self) {
                facts.newerBookkeeping = exists
            }
        }
        if reads.head {
            for try await head in try await connection.query(
                "SELECT coalesce(max(seq), 0)::BIGINT FROM changes", logger: logger
            ).decode(Int64.self) {
                facts.head = head
            }
        }
        if reads.latest {
            for try await text in try await connection.query("SELECT max(hlc) FROM changes", logger: logger).decode(
                String?.self)
            {
                facts.latest = text.flatMap(HLC.init)
            }
        }
        if let read = reads.rows {
            facts.rows += try await logRows(
                """
                SELECT seq, entity, record, field, case_id,
                    CASE WHEN \(read.text) OR packed IS NULL THEN body ELSE '' END, moved_from, packed
                FROM changes WHERE seq > \(read.after) ORDER BY seq LIMIT \(read.limit)
                """, connection, logger)
        }
        if let read = reads.scopedRows {
            let scope = read.scope
            let query: PostgresQuery =
                scope.entity == .case
                ? """
                SELECT seq, entity, record, field, case_id, body, moved_from, packed FROM changes
                WHERE case_id = \(scope.record) AND seq > \(read.after) AND seq <= \(read.upTo)
                ORDER BY seq LIMIT \(read.limit)
                """
                : """
                SELECT seq, entity, record, field, case_id, body, moved_from, packed FROM changes
                WHERE entity = 'event' AND record = \(scope.record) AND seq > \(read.after) AND seq <= \(read.upTo)
                ORDER BY seq LIMIT \(read.limit)
                """
            facts.rows += try await logRows(query, connection, logger)
        }
        if !reads.eventCases.isEmpty {
            for try await (caseID, record) in try await connection.query(
                """
                SELECT DISTINCT case_id, record FROM changes
                WHERE case_id = ANY(\(reads.eventCases)) AND entity = 'event' ORDER BY record
                """, logger: logger
            ).decode((String, String).self) {
                facts.caseEvents[caseID, default: []].append(record)
            }
        }
        if let read = reads.loggedCases, !read.cases.isEmpty {
            for try await caseID in try await connection.query(
                """
                SELECT asked FROM unnest(\(read.cases)::text[]) AS asked
                WHERE EXISTS (SELECT 1 FROM changes WHERE case_id = asked AND seq <= \(read.upTo))
                """, logger: logger
            ).decode(String.self) {
                facts.loggedCases.insert(caseID)
            }
        }
        if let read = reads.caseChunk {
            for try await (id, stored) in try await connection.query(
                """
                SELECT id, state FROM records WHERE entity = 'case' AND id > \(read.after)
                ORDER BY id LIMIT \(read.limit)
                """, logger: logger
            ).decode((String, Data).self) {
                facts.caseChunk.append((id, try StoreCoding.caseFacts(stored, id: id)))
            }
        }
        if let read = reads.recordedLevels {
            // In no order (`LogFacts.recordLevel` keeps each case's newest).
            for try await (caseID, level, generation) in try await connection.query(
                """
                SELECT case_id, level, generation FROM device_access
                WHERE device = \(read.device.rawValue) AND generation <= \(read.generation)
                    AND case_id = ANY(\(read.cases))
                """, logger: logger
            ).decode((String, Int32, Int64).self) {
                facts.recordLevel(
                    AccessPolicy.Access(rawValue: Int(level)) ?? AccessPolicy.Access.none, of: caseID,
                    generation: generation)
            }
        }
        facts.histories = try await histories(reads.histories, connection, logger)
        for entity in reads.entityStates {
            facts.entityStates[entity] = try await states(of: entity, connection, logger)
        }
        if reads.caseChangeTimes {
            for try await (record, hlc) in try await connection.query(
                "SELECT record, hlc FROM changes WHERE entity = 'case'", logger: logger
            ).decode((String, String).self) {
                facts.caseChangeTimes.append((record, hlc))
            }
        }
        if reads.stageWrites {
            for try await (body, packed) in try await connection.query(
                "SELECT body, packed FROM changes WHERE entity = 'case' AND field = 'stage' ORDER BY seq",
                logger: logger
            ).decode((String, Data?).self) {
                facts.stageWrites.append(StoredChange(json: body, packed: packed))
            }
        }
        if let since = reads.changedSince {
            for try await (entity, record) in try await connection.query(
                "SELECT DISTINCT entity, record FROM changes WHERE seq > \(since) ORDER BY entity, record",
                logger: logger
            ).decode((String, String).self) {
                if let entity = Entity(rawValue: entity) {
                    facts.changedRecords.append(RecordRef(entity: entity, record: record))
                }
            }
        }
        if let read = reads.statesPage {
            for try await (id, stored) in try await connection.query(
                """
                SELECT id, state FROM records WHERE entity = \(read.entity.rawValue) AND id > \(read.after)
                ORDER BY id LIMIT \(read.limit)
                """, logger: logger
            ).decode((String, Data).self) {
                facts.statesPage.append(StoredState(entity: read.entity, id: id, stored: stored))
            }
        }
        return facts
    }

    /// Every state of `entity`, in id order.
    static func states(
        of entity: Entity, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [RecordState] {
        var states: [RecordState] = []
        for try await (id, stored) in try await connection.query(
            "SELECT id, state FROM records WHERE entity = \(entity.rawValue) ORDER BY id", logger: logger
        ).decode((String, Data).self) {
            states.append(try StoreCoding.state(stored, entity: entity, id: id))
        }
        return states
    }

    /// The log rows a query of `seq, entity, record, field, case_id, body, moved_from, packed`
    /// returns, in its order.
    private static func logRows(
        _ query: PostgresQuery, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [LogRow] {
        var read: [LogRow] = []
        for try await (seq, entity, record, field, caseID, body, movedFrom, packed) in try await connection.query(
            query, logger: logger
        ).decode((Int64, String, String, String?, String?, String, String?, Data?).self) {
            guard let entity = Entity(rawValue: entity) else { continue }
            read.append(
                LogRow(
                    seq: seq, entity: entity, record: record, field: field, caseID: caseID,
                    change: StoredChange(json: body, packed: packed), movedFrom: movedFrom))
        }
        return read
    }

    /// Answers history reads, one answer per read in order. Reads of single records are asked
    /// together, one query per entity and position, to save round trips.
    private static func histories(
        _ reads: [LogReads.HistoryRead], _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [[LoggedChange]] {
        var answers = [[LoggedChange]](repeating: [], count: reads.count)
        var recordGroups: [String: (entity: Entity, upTo: Int64, indices: [String: Int])] = [:]
        for (index, read) in reads.enumerated() {
            switch read.scope {
            case .caseWithEvents(let caseID):
                for try await (field, body, packed) in try await connection.query(
                    """
                    SELECT field, body, packed FROM changes
                    WHERE case_id = \(caseID) AND seq <= \(read.upTo) ORDER BY seq
                    """,
                    logger: logger
                ).decode((String?, String, Data?).self) {
                    answers[index].append(LoggedChange(field: field, change: StoredChange(json: body, packed: packed)))
                }
            case .record(let ref):
                let key = "\(ref.entity.rawValue) \(read.upTo)"
                recordGroups[key, default: (ref.entity, read.upTo, [:])].indices[ref.record] = index
            }
        }
        for group in recordGroups.values {
            let records = Array(group.indices.keys)
            for try await (record, field, body, packed) in try await connection.query(
                """
                SELECT record, field, body, packed FROM changes
                WHERE entity = \(group.entity.rawValue) AND record = ANY(\(records)) AND seq <= \(group.upTo)
                ORDER BY seq
                """, logger: logger
            ).decode((String, String?, String, Data?).self) {
                if let index = group.indices[record] {
                    answers[index].append(LoggedChange(field: field, change: StoredChange(json: body, packed: packed)))
                }
            }
        }
        return answers
    }

    /// Makes one operation's writes, in `LogWrites`' order, each kind in one statement.
    static func write(_ writes: LogWrites, _ connection: PostgresConnection, _ logger: Logger) async throws {
        if !writes.changes.isEmpty {
            // The writer's advisory lock is held: numbering after the head cannot race.
            var next: Int64 = 0
            for try await top in try await connection.query(
                "SELECT coalesce(max(seq), 0)::BIGINT FROM changes", logger: logger
            ).decode(Int64.self) {
                next = top
            }
            let rows = writes.changes
            let seqs = rows.indices.map { next + 1 + Int64($0) }
            let changeIDs = rows.map(\.change.id.description)
            let entities = rows.map(\.change.entity.rawValue)
            let records = rows.map(\.change.record)
            let fields = rows.map { $0.change.field ?? "" }
            let caseIDs = rows.map { $0.caseID ?? "" }
            let hlcs = rows.map(\.change.hlc.description)
            let bodies = rows.map(\.stored.text)
            // Every row this release appends has its binary coding.
            let packed = rows.map { ByteBuffer(bytes: $0.stored.binary ?? []) }
            let movedFrom = rows.map { $0.movedFrom ?? "" }
            try await connection.query(
                """
                INSERT INTO changes (seq, change_id, entity, record, field, case_id, hlc, body, moved_from, packed)
                SELECT s, c, e, r, NULLIF(f, ''), NULLIF(k, ''), h, b, NULLIF(m, ''), NULLIF(p, ''::BYTEA)
                FROM unnest(\(seqs)::BIGINT[], \(changeIDs)::TEXT[], \(entities)::TEXT[], \(records)::TEXT[],
                            \(fields)::TEXT[], \(caseIDs)::TEXT[], \(hlcs)::TEXT[], \(bodies)::TEXT[],
                            \(movedFrom)::TEXT[], \(packed)::BYTEA[])
                     AS t(s, c, e, r, f, k, h, b, m, p)
                """, logger: logger)
        }
        if !writes.eventCases.isEmpty {
            let events = writes.eventCases.map(\.event)
            let cases = writes.eventCases.map { $0.caseID ?? "" }
            try await connection.query(
                """
                UPDATE changes SET case_id = NULLIF(t.k, '')
                FROM unnest(\(events)::TEXT[], \(cases)::TEXT[]) AS t(r, k)
                WHERE changes.entity = 'event' AND changes.record = t.r
                """, logger: logger)
        }
        if !writes.states.isEmpty {
            let entities = writes.states.map(\.ref.entity.rawValue)
            let ids = writes.states.map(\.ref.record)
            let packed = writes.states.map { ByteBuffer(bytes: $0.packed) }
            try await connection.query(
                """
                INSERT INTO records (entity, id, state)
                SELECT * FROM unnest(\(entities)::TEXT[], \(ids)::TEXT[], \(packed)::BYTEA[])
                ON CONFLICT (entity, id) DO UPDATE SET state = excluded.state
                """, logger: logger)
        }
        if let forget = writes.forgetBookkeeping {
            try await connection.query(
                "DELETE FROM device_access WHERE device = \(forget.device.rawValue) AND generation > \(forget.generation)",
                logger: logger)
        }
        try await writeLevels(writes.levels, connection, logger)
        if let (device, generation) = writes.deviceGeneration {
            try await connection.query(
                "UPDATE devices SET generation = \(generation) WHERE id = \(device.rawValue)", logger: logger)
        }
    }

    /// The levels an operation hands out, and the older bookkeeping rows they replace: one
    /// `DELETE` and one `INSERT` over arrays for the whole operation (a bootstrap's case page
    /// hands out a thousand levels: two round trips instead of two thousand). Each level's
    /// `DELETE` reads and removes only its own device's and case's rows, so running all of them
    /// before all the inserts is the same as running them level by level: an operation hands out
    /// at most one level per device and case (`LogWrites.levels`).
    static func writeLevels(
        _ levels: [LogWrites.Level], _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        guard !levels.isEmpty else { return }
        assert(Set(levels.map { [$0.device.rawValue, $0.caseID] }).count == levels.count, "one level a case")
        let devices = levels.map(\.device.rawValue)
        let cases = levels.map(\.caseID)
        let kept = levels.map(\.kept)
        try await connection.query(
            """
            DELETE FROM device_access USING unnest(\(devices)::TEXT[], \(cases)::TEXT[], \(kept)::BIGINT[]) AS t(d, k, g)
            WHERE device_access.device = t.d AND device_access.case_id = t.k AND device_access.generation < (
                SELECT coalesce(max(generation), 0) FROM device_access m
                WHERE m.device = t.d AND m.case_id = t.k AND m.generation <= t.g)
            """, logger: logger)
        let generations = levels.map(\.generation)
        let values = levels.map { Int32($0.level.rawValue) }
        try await connection.query(
            """
            INSERT INTO device_access (device, case_id, generation, level)
            SELECT * FROM unnest(\(devices)::TEXT[], \(cases)::TEXT[], \(generations)::BIGINT[], \(values)::INTEGER[])
            """, logger: logger)
    }
}
