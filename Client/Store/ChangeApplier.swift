import Foundation
import GRDB
import KakehashiSQLite
import KakehashiShared

/// Merges changes into the store inside the caller's transaction: the change log, the merged
/// record states, the entity tables, the search index and the conflict list move together.
///
/// Changes are grouped by record so each record's state is read and written once per batch,
/// which is what makes pulling a large page fast.
enum ChangeApplier {
    struct Summary: Sendable {
        var applied = 0
        var duplicates = 0
    }

    /// - Parameter own: this laptop's device: pulled changes it made itself (back after a recovery
    ///   from a restored server) are stored as its own again, already synced.
    static func apply(_ changes: [Change], local: Bool, own: DeviceID? = nil, in db: Database) throws -> Summary {
        if local { try keepBase(of: Set(changes.map { RecordRef(entity: $0.entity, record: $0.record) }), in: db) }
        var summary = Summary()
        // The new changes of each record, as indexes into `changes`, records in the order they
        // first appear. A record's changes usually come one after the other, so the last group
        // is found without hashing.
        var groups: [(ref: RecordRef, changes: [Int])] = []
        var groupOf: [RecordRef: Int] = [:]
        var rows = try ChangeRows.Writer(names: try ChangeRows.Names.load(db), in: db)
        let new = try rows.write(
            changes, local: { local || $0.id.device == own }, status: (local ? ChangeStatus.pending : .synced).rawValue,
            in: db)
        for (position, change) in changes.enumerated() {
            guard new[position] else {
                summary.duplicates += 1
                continue
            }
            summary.applied += 1
            if let last = groups.last, last.ref.record == change.record, last.ref.entity == change.entity {
                groups[groups.count - 1].changes.append(position)
                continue
            }
            let ref = RecordRef(entity: change.entity, record: change.record)
            if let group = groupOf[ref] {
                groups[group].changes.append(position)
            } else {
                groupOf[ref] = groups.count
                groups.append((ref, [position]))
            }
        }
        var records = try RecordWriter(db)
        for (ref, positions) in groups {
            let stored = try records.load(ref)
            var state = stored?.state ?? RecordState(entity: ref.entity, id: ref.record)
            for position in positions { state.apply(changes[position]) }
            try records.save(state, rowid: stored?.rowid, in: db)
        }
        return summary
    }

    /// Joins the states of a bootstrap page into the store (`RecordState.merge`), each record's
    /// derived rows written once; a record new to the laptop (all of them, in a first bootstrap)
    /// is the state received. The search index is left to one pass after the bootstrap
    /// (`SearchIndex.rebuild`), which costs a fraction of indexing page by page.
    /// - Parameter indexing: true for the states of records gained in the change stream
    ///   (`PullResponse.gained`), a few records each indexed as it is stored.
    static func merge(_ batch: StateBatch, indexing: Bool = false, in db: Database) throws -> Summary {
        var summary = Summary()
        let bases = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM bootstrap_bases)") ?? false
        // Which of the page's records the laptop holds already, in one query: in a first
        // bootstrap, none.
        var held: Set<String> = []
        for chunk in stride(from: 0, to: batch.states.count, by: 500) {
            let ids = batch.states[chunk..<min(batch.states.count, chunk + 500)].map(\.id)
            held.formUnion(
                try String.fetchAll(
                    db,
                    sql: "SELECT id FROM record_states WHERE id IN (\(ids.map { _ in "?" }.joined(separator: ",")))",
                    arguments: StatementArguments(ids)))
        }
        // One set of statements for the page's records, not one made for each record saved.
        var records = try RecordWriter(db)
        for (received, coding) in zip(batch.states, batch.codings) {
            let ref = RecordRef(entity: received.entity, record: received.id)
            if bases, var base = try loadState(ref, table: "bootstrap_bases", in: db), base.merge(received) {
                try db.run(
                    "UPDATE bootstrap_bases SET state = ? WHERE entity = ? AND id = ?",
                    [Data(base.binaryEncoded()), ref.entity.rawValue, ref.record])
            }
            let stored = held.contains(ref.record) ? try records.load(ref) : nil
            var state = stored?.state ?? received
            if stored != nil {
                guard state.merge(received) else { continue }
            }
            // A new record is stored in the bytes it came in.
            try records.save(
                state, isNew: stored == nil, indexing: indexing, encoded: stored == nil ? coding : nil,
                rowid: stored?.rowid, in: db)
            summary.applied += 1
        }
        return summary
    }

    /// Before the first local write to a record while the history of a bootstrap has not all
    /// arrived: keeps the record as the server gave it (`bootstrap_bases`), since its changes
    /// alone do not hold it yet, and `rebuild` must be able to take a refused change back out.
    static func keepBase(of refs: some Sequence<RecordRef>, in db: Database) throws {
        guard try PendingHistories.anyPending(in: db) else { return }
        for ref in refs {
            try db.run(
                "INSERT OR IGNORE INTO bootstrap_bases SELECT entity, id, state FROM record_states WHERE entity = ? AND id = ?",
                [ref.entity.rawValue, ref.record])
        }
    }

    /// Applies changes of the history states left out (a bootstrap's, or a gained record's:
    /// `PendingHistories`). The states hold them already, so
    /// merging them changes nothing there; they are merged all the same, like any pulled change,
    /// so that a change arriving first as history is never skipped later as a duplicate without
    /// having been merged. Once the whole history is there (`complete`), the records kept
    /// before local writes are no longer needed, unless another history is still pending.
    /// - Returns: how many changes were new.
    static func storeHistory(_ changes: [Change], own: DeviceID, complete: Bool, in db: Database) throws -> Int {
        let summary = try apply(changes, local: false, own: own, in: db)
        if complete, try !PendingHistories.anyPending(in: db) { try db.execute(sql: "DELETE FROM bootstrap_bases") }
        return summary.applied
    }

    static func loadState(_ ref: RecordRef, in db: Database) throws -> RecordState? {
        try loadState(ref, table: "record_states", in: db)
    }

    private static func loadState(_ ref: RecordRef, table: String, in db: Database) throws -> RecordState? {
        guard
            let data = try Data.fetchOne(
                db.cachedStatement(sql: "SELECT state FROM \(table) WHERE entity = ? AND id = ?"),
                arguments: [ref.entity.rawValue, ref.record])
        else { return nil }
        return try RecordState(entity: ref.entity, id: ref.record, binary: [UInt8](data))
    }

    /// Stores a merged state and everything derived from it.
    /// - Parameter isNew: the record had no stored state, so there is nothing derived to replace.
    /// - Parameter indexing: false while a bootstrap leaves the search index to one pass.
    /// - Parameter encoded: the state's binary coding, when the caller has it already.
    static func save(
        _ state: RecordState, isNew: Bool = false, indexing: Bool = true, encoded: [UInt8]? = nil, in db: Database
    ) throws {
        var records = try RecordWriter(db)
        try records.save(state, isNew: isNew, indexing: indexing, encoded: encoded, in: db)
    }

    /// Reads and writes records' states and everything derived from them with statements bound
    /// value by value (`BoundStatement`), each prepared once for the records of a batch.
    struct RecordWriter {
        private var select: BoundStatement
        private var upsert: BoundStatement
        private var rows: [Entity: BoundStatement] = [:]
        private var index: SearchIndex.Indexer?

        init(_ db: Database) throws {
            select = try BoundStatement(db, sql: "SELECT rowid, state FROM record_states WHERE entity = ? AND id = ?")
            upsert = try BoundStatement(
                db,
                sql: """
                    INSERT INTO record_states (entity, id, state) VALUES (?, ?, ?)
                    ON CONFLICT (entity, id) DO UPDATE SET state = excluded.state
                    """)
        }

        /// A record's stored state and its rowid, if the store holds it.
        mutating func load(_ ref: RecordRef) throws -> (rowid: Int64, state: RecordState)? {
            select.begin()
            select.bind(ref.entity.rawValue)
            select.bind(ref.record)
            guard
                let (rowid, bytes) = try select.fetchRow({ row -> (Int64, [UInt8]) in
                    (row[0], try row.withUnsafeData(atIndex: 1) { [UInt8]($0 ?? Data()) })
                })
            else { return nil }
            return (rowid, try RecordState(entity: ref.entity, id: ref.record, binary: bytes))
        }

        /// `ChangeApplier.save`, for a record whose stored rowid (`load`) the caller knows: nil
        /// for a record the store does not hold.
        mutating func save(_ state: RecordState, rowid: Int64?, in db: Database) throws {
            try save(state, isNew: rowid == nil, rowid: rowid, in: db)
        }

        /// `ChangeApplier.save`.
        mutating func save(
            _ state: RecordState, isNew: Bool, indexing: Bool = true, encoded: [UInt8]? = nil, rowid: Int64? = nil,
            in db: Database
        ) throws {
            // An update keeps the row's rowid, under which the search index holds the record.
            upsert.begin()
            upsert.bind(state.entity.rawValue)
            upsert.bind(state.id)
            upsert.bind(blob: encoded ?? state.binaryEncoded())
            try upsert.execute()
            // A record new to the store was inserted just now.
            let rowid = rowid ?? (isNew ? db.lastInsertedRowID : nil)
            let table = RecordTable(state.entity)
            var row = try rows[state.entity] ?? table.upsertStatement(db)
            try table.materialize(state, with: &row)
            rows[state.entity] = row
            if indexing,
                let found = try rowid ?? SearchIndex.rowid(RecordRef(entity: state.entity, record: state.id), in: db)
            {
                var indexer = try index ?? SearchIndex.Indexer(db)
                try indexer.update(state, rowid: found, replacing: !isNew)
                index = indexer
            }
            if !isNew || (state.mayHaveConflicts && !state.conflicts.isEmpty) {
                try ConflictStore.refresh(state, in: db)
            }
        }
    }

    /// Recomputes a record from its change log without the given changes (used when the server
    /// rejects a local change: the record goes back to what the server holds). While the
    /// history of a bootstrap has not arrived, the state received stands in for it.
    static func rebuild(_ ref: RecordRef, excluding excluded: Set<ChangeID>, in db: Database) throws {
        var state =
            try loadState(ref, table: "bootstrap_bases", in: db) ?? RecordState(entity: ref.entity, id: ref.record)
        for (change, _) in try ChangeRows.history(of: ref.record, in: db)
        where change.entity == ref.entity && !excluded.contains(change.id) {
            state.apply(change)
        }
        if state.heads.isEmpty {
            try remove(ref, in: db)
        } else {
            try save(state, in: db)
        }
    }

    /// Drops a record and everything derived from it, without writing a change (a purge).
    static func remove(_ ref: RecordRef, in db: Database) throws {
        // The index entry first: it is found by the state's rowid.
        try SearchIndex.remove(ref, in: db)
        for table in ["record_states", "bootstrap_bases"] {
            try db.execute(
                sql: "DELETE FROM \(table) WHERE entity = ? AND id = ?", arguments: [ref.entity.rawValue, ref.record])
        }
        try RecordTable(ref.entity).delete(ref.record, in: db)
        try db.execute(sql: "DELETE FROM conflicts WHERE record = ?", arguments: [ref.record])
    }

    /// Removes a case and its events, their history included: the device lost access. The
    /// user's own changes to them, sent or not, are first kept in full in the refused store.
    /// - Parameter time: when the purge happens (Unix milliseconds), for the refused store.
    /// - Returns: the number of new refused-store entries.
    @discardableResult
    static func purge(_ ref: RecordRef, keptAt time: Int64 = FieldClient.systemClock(), in db: Database) throws -> Int {
        var refs = [ref]
        if ref.entity == .case {
            let events = try String.fetchAll(
                db, sql: "SELECT id FROM events WHERE \"case\" = ?", arguments: [ref.record])
            refs += events.map { RecordRef(entity: .event, record: $0) }
        }
        let kept = try RefusedStore.keepBeforePurge(refs, at: time, in: db)
        for target in refs {
            try remove(target, in: db)
            try PendingHistories.drop(target, in: db)
            try db.execute(
                sql: "DELETE FROM changes WHERE entity = ? AND record = ?",
                arguments: [target.entity.rawValue, ChangeRows.recordKey(target.record)])
        }
        // The deleted text still sits in old search-index segments and WAL frames: scrub them.
        try Scrub.markNeeded(in: db)
        return kept
    }
}
