import GRDB
import KakehashiShared

/// The local store's schema, as GRDB migrations.
enum StoreMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            // The one enrolled device this store belongs to.
            try db.execute(
                sql: """
                    CREATE TABLE device (
                        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                        device TEXT NOT NULL,
                        advisor TEXT NOT NULL,
                        token TEXT NOT NULL,
                        server TEXT NOT NULL,
                        cacert TEXT,
                        counter INTEGER NOT NULL DEFAULT 0,
                        clock TEXT NOT NULL,
                        clock_offset INTEGER NOT NULL DEFAULT 0,
                        cursor TEXT NOT NULL DEFAULT '0',
                        last_sync INTEGER
                    )
                    """)
            // Every change this replica holds, its own and received ones: the history `log`
            // shows, the pending queue (`status = 'pending'`), and rejections with reasons.
            try db.execute(
                sql: """
                    CREATE TABLE changes (
                        id TEXT PRIMARY KEY NOT NULL,
                        entity TEXT NOT NULL,
                        record TEXT NOT NULL,
                        field TEXT,
                        op TEXT NOT NULL,
                        value TEXT NOT NULL,
                        hlc TEXT NOT NULL,
                        prev TEXT NOT NULL,
                        author TEXT NOT NULL,
                        local INTEGER NOT NULL,
                        status TEXT NOT NULL,
                        reject_code TEXT,
                        reject_reason TEXT
                    )
                    """)
            try db.execute(sql: "CREATE INDEX changes_by_record ON changes (record, hlc)")
            // Partial indexes whose conditions the queries repeat exactly, so SQLite uses them.
            try db.execute(sql: "CREATE INDEX changes_pending ON changes (status) WHERE status = 'pending'")
            try db.execute(sql: "CREATE INDEX changes_rejected ON changes (status) WHERE status = 'rejected'")
            // The merged state of every record (RecordState in its binary form): the source of
            // truth the entity tables are materialized from.
            try db.execute(
                sql: """
                    CREATE TABLE record_states (
                        entity TEXT NOT NULL,
                        id TEXT NOT NULL,
                        state BLOB NOT NULL,
                        PRIMARY KEY (entity, id)
                    ) WITHOUT ROWID
                    """)
            try db.execute(
                sql: """
                    CREATE TABLE conflicts (
                        id TEXT PRIMARY KEY NOT NULL,
                        short_id TEXT NOT NULL,
                        entity TEXT NOT NULL,
                        record TEXT NOT NULL,
                        body TEXT NOT NULL
                    )
                    """)
            try db.execute(sql: "CREATE INDEX conflicts_by_record ON conflicts (record)")
            try db.execute(sql: "CREATE UNIQUE INDEX conflicts_by_short_id ON conflicts (short_id)")
            // Full-text index over every searchable field; trigram so Japanese needs no
            // word segmentation.
            try db.execute(
                sql: """
                    CREATE VIRTUAL TABLE search USING fts5(
                        entity UNINDEXED, record UNINDEXED, title, content, tokenize = 'trigram'
                    )
                    """)
            for entity in Entity.allCases { try RecordTable(entity).create(db) }
            try db.execute(sql: "CREATE INDEX events_by_case ON events (\"case\", date)")
        }
        migrator.registerMigration("v2-search-rank") { db in
            // Let FTS5 rank internally, so `ORDER BY rank LIMIT n` does not call bm25() through
            // the SQL function layer for every match. Weights follow the declared columns,
            // unindexed ones included: entity, record, title (10×), content.
            try db.execute(sql: "INSERT INTO search (search, rank) VALUES ('rank', 'bm25(0.0, 0.0, 10.0, 1.0)')")
        }
        migrator.registerMigration("v3-refused") { db in
            // Own changes the server refused, or that a purge took away with the case, copied in
            // full before anything is deleted; they stay until the user removes them
            // (`kakehashi refused`). One row per change; `entry` groups a record's changes that
            // were kept together, and is the short id people type.
            try db.execute(
                sql: """
                    CREATE TABLE refused (
                        change TEXT PRIMARY KEY NOT NULL,
                        entry TEXT NOT NULL,
                        entity TEXT NOT NULL,
                        record TEXT NOT NULL,
                        field TEXT,
                        op TEXT NOT NULL,
                        value TEXT NOT NULL,
                        hlc TEXT NOT NULL,
                        case_id TEXT,
                        context TEXT,
                        cause TEXT NOT NULL,
                        code TEXT NOT NULL,
                        reason TEXT NOT NULL,
                        on_server INTEGER NOT NULL,
                        kept_at INTEGER NOT NULL
                    )
                    """)
            try db.execute(sql: "CREATE INDEX refused_by_entry ON refused (entry)")
        }
        migrator.registerMigration("v4-epoch") { db in
            // The identity of the server log this replica mirrors (`epoch` of push and pull
            // responses), and whether a recovery from a restored server is under way: own changes
            // are being sent again before the replica is downloaded again from the start.
            try db.execute(sql: "ALTER TABLE device ADD COLUMN epoch TEXT")
            try db.execute(sql: "ALTER TABLE device ADD COLUMN recovering INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v5-recovery-kept") { db in
            // Own changes set aside when a recovery resets the replica (`ReplicaReset`), until the
            // download from the start shows which came back; the others go to the refused store.
            try db.execute(sql: "CREATE TABLE recovery_kept AS SELECT * FROM changes WHERE 0")
        }
        // The folded index; filled by `v8-compact`, which indexes records under their state's
        // rowid (here the states may still be in v1's WITHOUT ROWID table).
        migrator.registerMigration("v5-search-folded") { db in
            try db.execute(sql: "DROP TABLE IF EXISTS search")
            try SearchFolding.createTable(db)
        }
        migrator.registerMigration("v6-compact") { db in
            // Merged states move to a rowid table: in the WITHOUT ROWID table of v1 a row over
            // about 1,000 bytes (most case states) spilled into an overflow page of its own, and
            // a state cost 4 KB whatever its size.
            try db.execute(
                sql: """
                    CREATE TABLE record_states_compact (
                        entity TEXT NOT NULL,
                        id TEXT NOT NULL,
                        state BLOB NOT NULL,
                        PRIMARY KEY (entity, id)
                    )
                    """)
            try db.execute(sql: "INSERT INTO record_states_compact SELECT entity, id, state FROM record_states")
            try db.execute(sql: "DROP TABLE record_states")
            try db.execute(sql: "ALTER TABLE record_states_compact RENAME TO record_states")
            // A record's history is found by record and ordered after (a handful of rows): the
            // HLC text in the index cost more bytes than the rows it ordered.
            try db.execute(sql: "DROP INDEX changes_by_record")
            try db.execute(sql: "CREATE INDEX changes_by_record ON changes (record)")
        }
        migrator.registerMigration("v7-bootstrap") { db in
            // The optional protocol features the server listed last (comma-separated), so a
            // laptop asks for a bootstrap from states only of a server that has them.
            try db.execute(sql: "ALTER TABLE device ADD COLUMN features TEXT")
            // The history cursor of a bootstrap from states (`GET /v1/history`): the history the
            // states stand for that has not arrived yet; NULL once it has.
            try db.execute(sql: "ALTER TABLE device ADD COLUMN history TEXT")
            // Set while a bootstrap's states are in the store but not in the search index, which
            // is built in one pass once the bootstrap's last page is in (`SearchIndex.rebuild`).
            try db.execute(sql: "ALTER TABLE device ADD COLUMN index_pending INTEGER NOT NULL DEFAULT 0")
            // While the history of a bootstrap from states has not all arrived: each record this
            // laptop writes to, as it stood before its first local write (`ChangeApplier.keepBase`).
            // A record is rebuilt from it and its changes when the server refuses a local change
            // (`ChangeApplier.rebuild`), since its changes alone do not hold it yet.
            try db.execute(
                sql: """
                    CREATE TABLE bootstrap_bases (
                        entity TEXT NOT NULL,
                        id TEXT NOT NULL,
                        state BLOB NOT NULL,
                        PRIMARY KEY (entity, id)
                    )
                    """)
        }
        migrator.registerMigration("v8-compact", migrate: CompactChanges.migrate)
        migrator.registerMigration("v9-gained-histories") { db in
            // The histories of records a pull handed out as merged states because the device
            // gained access to them (`PendingHistories`), still to download with `GET /v1/history`.
            try db.execute(
                sql: """
                    CREATE TABLE pending_histories (
                        entity TEXT NOT NULL,
                        record TEXT NOT NULL,
                        cursor TEXT NOT NULL,
                        PRIMARY KEY (entity, record)
                    )
                    """)
        }
        return migrator
    }
}
