import KakehashiShared

/// The server store's schema as one numbered list of migrations, applied in order by both stores.
///
/// Each migration says once what changes and gives the statements for each store's SQL dialect.
/// `SQLiteStore` registers them with GRDB's migrator as `v1`, `v2`, …; `PostgresStore` records
/// applied versions in `schema_migrations`. PostgreSQL stores made before that table existed ran
/// the statements of versions 1–3 with `IF NOT EXISTS`, so those stay idempotent and are simply
/// applied again. Append new migrations at the end; never edit or reorder a released one
/// (`StoreUpgradeTests` opens stores written by earlier releases).
public enum StoreSchema {
    public struct Migration: Sendable {
        public let version: Int
        public let purpose: String
        let sqlite: [String]
        let postgres: [String]
    }

    /// The version a store written by this release has.
    public static var latest: Int { migrations.count }

    static let migrations: [Migration] = [
        Migration(
            version: 1, purpose: "the change log, merged record states, devices, enrollment codes, access bookkeeping",
            sqlite: [
                """
                CREATE TABLE changes (
                    seq INTEGER PRIMARY KEY,
                    change_id TEXT NOT NULL UNIQUE,
                    entity TEXT NOT NULL,
                    record TEXT NOT NULL,
                    field TEXT,
                    case_id TEXT,
                    hlc TEXT NOT NULL,
                    body TEXT NOT NULL
                )
                """,
                "CREATE INDEX changes_by_case ON changes(case_id, seq)",
                "CREATE INDEX changes_by_record ON changes(entity, record, seq)",
                "CREATE INDEX changes_by_hlc ON changes(hlc)",
                """
                CREATE TABLE records (
                    entity TEXT NOT NULL,
                    id TEXT NOT NULL,
                    state TEXT NOT NULL,
                    PRIMARY KEY (entity, id)
                )
                """,
                "CREATE INDEX records_by_id ON records(id)",
                """
                CREATE TABLE devices (
                    id TEXT PRIMARY KEY,
                    advisor TEXT NOT NULL,
                    name TEXT,
                    token_hash TEXT NOT NULL UNIQUE,
                    enrolled_at INTEGER NOT NULL,
                    revoked_at INTEGER,
                    generation INTEGER NOT NULL DEFAULT 0
                )
                """,
                """
                CREATE TABLE enrollment_codes (
                    code_hash TEXT PRIMARY KEY,
                    advisor TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    used_at INTEGER,
                    device TEXT
                )
                """,
                """
                CREATE TABLE device_access (
                    device TEXT NOT NULL,
                    case_id TEXT NOT NULL,
                    generation INTEGER NOT NULL,
                    level INTEGER NOT NULL,
                    PRIMARY KEY (device, case_id, generation)
                )
                """,
                "CREATE INDEX device_access_by_generation ON device_access(device, generation)",
            ],
            postgres: [
                """
                CREATE TABLE IF NOT EXISTS changes (
                    seq BIGINT PRIMARY KEY,
                    change_id TEXT COLLATE "C" NOT NULL UNIQUE,
                    entity TEXT NOT NULL,
                    record TEXT COLLATE "C" NOT NULL,
                    field TEXT,
                    case_id TEXT COLLATE "C",
                    hlc TEXT COLLATE "C" NOT NULL,
                    body TEXT NOT NULL)
                """,
                "CREATE INDEX IF NOT EXISTS changes_by_case ON changes(case_id, seq)",
                "CREATE INDEX IF NOT EXISTS changes_by_record ON changes(entity, record, seq)",
                "CREATE INDEX IF NOT EXISTS changes_by_hlc ON changes(hlc)",
                """
                CREATE TABLE IF NOT EXISTS records (
                    entity TEXT NOT NULL, id TEXT COLLATE "C" NOT NULL, state TEXT NOT NULL, PRIMARY KEY (entity, id))
                """,
                "CREATE INDEX IF NOT EXISTS records_by_id ON records(id)",
                """
                CREATE TABLE IF NOT EXISTS devices (
                    id TEXT COLLATE "C" PRIMARY KEY, advisor TEXT NOT NULL, name TEXT, token_hash TEXT NOT NULL UNIQUE,
                    enrolled_at BIGINT NOT NULL, revoked_at BIGINT, generation BIGINT NOT NULL DEFAULT 0)
                """,
                """
                CREATE TABLE IF NOT EXISTS enrollment_codes (
                    code_hash TEXT PRIMARY KEY, advisor TEXT NOT NULL, created_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL, used_at BIGINT, device TEXT)
                """,
                """
                CREATE TABLE IF NOT EXISTS device_access (
                    device TEXT NOT NULL, case_id TEXT COLLATE "C" NOT NULL, generation BIGINT NOT NULL,
                    level INTEGER NOT NULL, PRIMARY KEY (device, case_id, generation))
                """,
                "CREATE INDEX IF NOT EXISTS device_access_by_generation ON device_access(device, generation)",
            ]),
        Migration(
            version: 2,
            purpose: "the case an event left when a change moved it (pulls purge and back-fill moved events)",
            sqlite: ["ALTER TABLE changes ADD COLUMN moved_from TEXT"],
            postgres: ["ALTER TABLE changes ADD COLUMN IF NOT EXISTS moved_from TEXT COLLATE \"C\""]),
        Migration(
            version: 3,
            purpose: "device health: the client's version, its last request, the log position of its last pull",
            sqlite: [
                "ALTER TABLE devices ADD COLUMN app_version TEXT",
                "ALTER TABLE devices ADD COLUMN last_seen_at INTEGER",
                "ALTER TABLE devices ADD COLUMN pulled_seq INTEGER",
            ],
            postgres: [
                "ALTER TABLE devices ADD COLUMN IF NOT EXISTS app_version TEXT",
                "ALTER TABLE devices ADD COLUMN IF NOT EXISTS last_seen_at BIGINT",
                "ALTER TABLE devices ADD COLUMN IF NOT EXISTS pulled_seq BIGINT",
            ]),
        Migration(
            version: 4,
            purpose: "the log's identity (epoch): new for every store and every restore, so laptops notice a restore",
            sqlite: [
                "CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
                "INSERT INTO store_meta (key, value) VALUES ('epoch', lower(hex(randomblob(16))))",
            ],
            postgres: [
                "CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
                "INSERT INTO store_meta (key, value) VALUES ('epoch', md5(random()::text || clock_timestamp()::text))",
            ]),
        Migration(
            version: 5,
            purpose:
                "record states in RecordState's binary coding (StoreCoding.pack); JSON states written before are read until the record is written again",
            // SQLite keeps a BLOB in the TEXT column as it is; PostgreSQL's column becomes bytes.
            sqlite: [],
            postgres: ["ALTER TABLE records ALTER COLUMN state TYPE BYTEA USING convert_to(state, 'UTF8')"]),
        Migration(
            version: 6,
            purpose:
                "each change's binary coding beside its JSON (StoredChange), so binary pages parse no JSON; rows logged before are read from their JSON",
            sqlite: ["ALTER TABLE changes ADD COLUMN packed BLOB"],
            postgres: ["ALTER TABLE changes ADD COLUMN IF NOT EXISTS packed BYTEA"]),
        Migration(
            version: 7,
            purpose:
                "the log's format (LogFormat, store_meta 'log_format'): an SQLite store, which one process serves, logs each new change in its binary coding only and keeps its newest timestamp in store_meta instead of an index; PostgreSQL keeps writing the JSON beside it",
            // From here on a release before this one refuses the store at start (exit 69), so no
            // process that splices `body` into JSON pages reads what the SQLite store writes, and
            // none that reads `max(hlc)` or appends without keeping `latest_hlc` runs on it.
            // `changes_by_hlc` served only `max(hlc)`; `records_by_id` only the lookup of a
            // batch's ids, which the primary key serves with every entity named
            // (`SQLiteStore.read`). Each was a B-tree insert per change or per new record.
            sqlite: [
                "INSERT INTO store_meta (key, value) VALUES ('log_format', 'binary')",
                "INSERT INTO store_meta (key, value) SELECT 'latest_hlc', hlc FROM changes ORDER BY hlc DESC LIMIT 1",
                "DROP INDEX changes_by_hlc",
                "DROP INDEX records_by_id",
            ],
            postgres: ["INSERT INTO store_meta (key, value) VALUES ('log_format', 'json')"]),
    ]

    /// The statement that gives a store a new epoch (a restore does it), in both dialects.
    static let renewEpoch = (
        sqlite: "UPDATE store_meta SET value = lower(hex(randomblob(16))) WHERE key = 'epoch'",
        postgres: "UPDATE store_meta SET value = md5(random()::text || clock_timestamp()::text) WHERE key = 'epoch'"
    )

    /// The error for a store written by a newer release than this one, whose migrations are
    /// `known`.
    static func newer(_ version: Int, store: String, known: [Migration] = migrations) -> KakehashiError {
        KakehashiError(
            .unavailable, field: "db",
            "\(store) has schema version \(version), written by a newer kakehashi-server; this release knows versions up to \(known.count) — run the newer release"
        )
    }
}

/// How the log keeps each change it appends, and the coding of the merged states beside it: the
/// `store_meta` row `log_format` (schema version 7). The one rule for what a store writes; every
/// release since schema version 6 reads both forms of a change, since version 7 both codings of a
/// state.
///
/// A process of a release before schema version 7 splices a row's `body` into the JSON pages it
/// sends older laptops, so `body` may be left empty only where no such process can read the
/// store: on SQLite, which one `serve` holds (`SQLiteServeLock`) and whose migrations run only
/// where no other process serves it (`SQLiteStore.migrate`), and which every release before
/// version 7 refuses at start. PostgreSQL, where several processes of two releases run side by
/// side during a rolling restart, keeps writing the JSON.
public enum LogFormat: String, Sendable {
    /// Each change's JSON text (`body`) and its binary coding (`packed`).
    case json
    /// The binary coding only, `body` empty: a JSON page makes the JSON from it (`StoredChange.json`).
    case binary

    /// The format a store's `store_meta` names; a store without the row writes both forms.
    init(storeMeta value: String?) {
        self = value.flatMap(LogFormat.init(rawValue:)) ?? .json
    }

    /// The version of `RecordState`'s binary coding the store writes merged states in
    /// (`StoreCoding.pack`): version 2, a third smaller, where no process of
    /// a release before schema version 7 can read the store (the reason for `.binary`, above);
    /// version 1, which every release since schema version 5 reads, where one may.
    var stateCodingVersion: UInt8 { self == .binary ? 2 : 1 }
}
