import KakehashiShared
import ServiceLifecycle

/// The change log and everything kept beside it: merged record states, devices, enrollment codes
/// and each device's access bookkeeping.
///
/// This is the one seam with two implementations: `SQLiteStore` (embedded, the default) and
/// `PostgresStore` (several server processes on one database). Both run the same pure planners
/// (`PushPlanner`, `PullPlanner`), so they behave alike; the test suite runs against both.
public protocol ChangeLogStore: Sendable {
    /// Appends a batch of validated changes in one transaction, merging each accepted change into
    /// its record's state with `RecordState.apply` before the next change is checked.
    ///
    /// - Parameters:
    ///   - viewer: the advisor the pushing device acts for; nil for the server's own admin writes,
    ///     which skip the access checks.
    ///   - onlyIfEmpty: store nothing unless the log is empty (seeding the programs on first start,
    ///     safely even when two processes start at once).
    /// - Returns: one result per change, in request order.
    func append(
        _ changes: [Change], viewer: AccessPolicy.Viewer?, wallMillis: Int64, onlyIfEmpty: Bool
    ) async throws -> [PushResult]

    /// The next page of what the request's device may see after its cursor, with purges and
    /// back-fill, recording the access levels it hands out under the new cursor's generation.
    /// - Throws: `KakehashiError` (`.invalidData`, field `after`) for a cursor this server never
    ///   issued; `PullOperation.reconcileThrottled` for a page that needs a full reconciliation
    ///   the request does not allow.
    func pull(_ request: PullRequest) async throws -> PullPage

    /// A device's pull as `GET /v1/pull` asks it, in one transaction: the device by its token
    /// and its advisor's current directory record (refused as `Authenticator` refuses them), the
    /// next page as `pull(_: PullRequest)` makes it for that device and viewer, and the log's
    /// epoch (`SessionPullOperation`).
    /// - Throws: `APIError` (401 `unauthorized` or `revoked`) before anything else is read;
    ///   then as `pull(_: PullRequest)`.
    func pull(_ request: SessionPullRequest) async throws -> SessionPullPage

    /// The next page of the history a bootstrap left out, as `device` may see it now and was
    /// handed it (`HistoryOperation`); read only.
    func history(
        device: DeviceID, viewer: AccessPolicy.Viewer, cursor: HistoryCursor, limit: Int
    ) async throws
        -> HistoryPage

    /// The merged state of one record, or nil when no change to it was ever accepted.
    func record(_ entity: Entity, _ id: String) async throws -> RecordState?
    /// Every record of one entity (small directory entities: advisors, programs).
    func records(_ entity: Entity) async throws -> [RecordState]
    /// The highest HLC in the log, to start an admin clock above it.
    func highestHLC() async throws -> HLC?
    /// How many changes the log holds.
    func changeCount() async throws -> Int
    /// The records of `entities` and their history facts as of one log position, read in one
    /// consistent transaction, for exports and indicators.
    /// - Parameter since: also list the records changed after this sequence number.
    /// - Throws: `KakehashiError` (`.invalidData`, field `since`) when `since` is beyond the head.
    func snapshot(entities: [Entity], since: Int64?) async throws -> LogSnapshot
    /// `snapshot(entities:since:)`, then, in the same consistent read, every state of `streamed`
    /// (an entity not among `entities`) in pages of `pageSize` in id order, handed to `stream` as
    /// they come, as many passes as it asks for: exports read the events this way, holding one page
    /// at a time. With `since`, each page comes with the histories up to it of its records changed
    /// after it (`SnapshotPage.changedSince`).
    /// - Throws: `KakehashiError` (`.invalidData`, field `since`) when `since` is beyond the head.
    func snapshot(
        entities: [Entity], streaming streamed: Entity, since: Int64?, pageSize: Int, into stream: any SnapshotStream)
        async throws

    /// The log's identity (`StoreSchema` version 4): new for every new store and every restore.
    /// Push and pull responses carry it, so a laptop notices that the log it synced with was
    /// replaced and sends its own changes again.
    func epoch() async throws -> String
    /// Gives the store a new epoch (`kakehashi-server restore` does, after putting a backup in place).
    func renewEpoch() async throws -> String
    /// `kakehashi-server check`: schema version, sequence density, and every record's stored state
    /// against a replay of its changes, read in one transaction.
    func check() async throws -> StoreCheck.Report

    /// Stores a new enrollment code by its hash.
    func addEnrollmentCode(hash: String, advisor: String, createdAt: Int64, expiresAt: Int64) async throws
    /// Redeems a code once: when it exists, is unused and unexpired at `now`, marks it used and
    /// creates `device` with `tokenHash`, atomically. Returns the advisor, or nil.
    func redeemEnrollmentCode(hash: String, device: DeviceRecord, tokenHash: String, now: Int64) async throws -> String?
    /// The device whose token hashes to `tokenHash`, revoked or not.
    func device(tokenHash: String) async throws -> (device: DeviceRecord, tokenHash: String)?
    func devices() async throws -> [DeviceRecord]
    /// Marks a device revoked; false when there is no such device.
    func revoke(_ device: DeviceID, at: Int64) async throws -> Bool
    /// Stores devices' latest activity in one transaction (`DeviceActivity` batches and throttles
    /// the calls): last seen only moves forward; a nil version or pull position keeps the stored one.
    func recordActivity(_ activity: [DeviceActivityRecord]) async throws
    /// Every device's health columns and the log head, read together (`devices`, `/metrics`).
    func deviceHealth() async throws -> DeviceHealthReport

    /// Writes a consistent copy of the whole store, taken while it serves, to a new file (mode 0600)
    /// that is itself a complete embedded store.
    /// - Throws: `KakehashiError` (`.invalidData`, field `out`) when the file exists; (`.usage`)
    ///   for PostgreSQL, which is backed up with `pg_dump`.
    func backup(to path: String) async throws

    /// The background work the store needs running while it is used (PostgreSQL: its connection
    /// pool; SQLite: none), run in the server's service group or by `StoreLocation.withStore`.
    var services: [any Service] { get }

    /// Finishes with the store; it is unusable afterwards. SQLite checkpoints its WAL into the
    /// database file and closes it; PostgreSQL has nothing to do here (its pool closes its
    /// connections when its service in `services` ends).
    func close() async
}

extension ChangeLogStore {
    /// A pull whose cursor is also what the client has stored (no page asked ahead).
    public func pull(
        device: DeviceID, viewer: AccessPolicy.Viewer, cursor: PullCursor, limit: Int
    ) async throws
        -> PullPage
    {
        try await pull(PullRequest(device: device, viewer: viewer, cursor: cursor, limit: limit))
    }
}

/// What a device asks of `ChangeLogStore.pull`.
public struct PullRequest: Sendable {
    public let device: DeviceID
    public let viewer: AccessPolicy.Viewer
    public let cursor: PullCursor
    /// The cursor of the last page the client has stored, when it asks ahead (a page requested
    /// while the previous one is still being applied); nil: `cursor` itself. Bookkeeping the
    /// client may still fall back to (levels at or below that generation) is kept, so a retry
    /// from it after a crash gets its purges again.
    public let acknowledged: PullCursor?
    /// False when this device had a full reconciliation (every case it may see compared again,
    /// after its own advisor's program or status changed) a moment ago (`ReconcileGate`); a page
    /// that needs one then throws `PullOperation.reconcileThrottled` instead of doing it.
    public let allowFullReconcile: Bool
    /// The client asks for states: from cursor `0`, a bootstrap, the merged states of what it may
    /// see rather than every change (`BootstrapOperation`; a bootstrap cursor goes on with states
    /// whatever this says); from a stream cursor, the records it gains access to as merged
    /// states with a history cursor each (`PullPage.gained`) rather than their history.
    public let states: Bool
    /// Whether the page goes out as JSON, which splices each change's stored JSON text; a binary
    /// page reads only each change's binary coding, and its rows are read without their text.
    public let json: Bool
    public let limit: Int

    public init(
        device: DeviceID, viewer: AccessPolicy.Viewer, cursor: PullCursor, acknowledged: PullCursor? = nil,
        allowFullReconcile: Bool = true, states: Bool = false, json: Bool = true, limit: Int
    ) {
        self.device = device
        self.viewer = viewer
        self.cursor = cursor
        self.acknowledged = acknowledged
        self.allowFullReconcile = allowFullReconcile
        self.states = states
        self.json = json
        self.limit = limit
    }
}

/// What `GET /v1/pull` asks of `ChangeLogStore.pull(_: SessionPullRequest)`: a `PullRequest`
/// whose device and viewer are read, from the token, in the page's own transaction.
public struct SessionPullRequest: Sendable {
    /// The hash of the request's bearer token (`Authenticator.tokenHash(authorization:)`).
    public let tokenHash: String
    public let cursor: PullCursor
    /// As `PullRequest.acknowledged`.
    public let acknowledged: PullCursor?
    /// As `PullRequest.states`.
    public let states: Bool
    /// As `PullRequest.json`.
    public let json: Bool
    public let limit: Int
    /// `PullRequest.allowFullReconcile` for the device the token names (`ReconcileGate`), asked
    /// once that device is known.
    public let allowsFullReconcile: @Sendable (DeviceID) -> Bool

    public init(
        tokenHash: String, cursor: PullCursor, acknowledged: PullCursor? = nil, states: Bool = false,
        json: Bool = true, limit: Int, allowsFullReconcile: @escaping @Sendable (DeviceID) -> Bool = { _ in true }
    ) {
        self.tokenHash = tokenHash
        self.cursor = cursor
        self.acknowledged = acknowledged
        self.states = states
        self.json = json
        self.limit = limit
        self.allowsFullReconcile = allowsFullReconcile
    }
}

/// A pull page with what the same transaction read before it: the session (device and viewer)
/// and the log's epoch.
public struct SessionPullPage: Sendable {
    public let session: Authenticator.Session
    public let page: PullPage
    public let epoch: String
}

/// An enrolled device as the server keeps it (never with its token).
public struct DeviceRecord: Codable, Sendable, Hashable {
    public let id: DeviceID
    public let advisor: String
    public let name: String?
    public let enrolledAt: Int64
    public let revokedAt: Int64?
    /// `active`, `revoked`, or `advisor-deactivated` (the device is refused because its advisor
    /// left); the store knows only revocation, `AdminService.deviceList` adds the advisor's side.
    public var status: String

    /// Whether the device may sync.
    public var active: Bool { status == "active" }

    public init(id: DeviceID, advisor: String, name: String?, enrolledAt: Int64, revokedAt: Int64?) {
        self.id = id
        self.advisor = advisor
        self.name = name
        self.enrolledAt = enrolledAt
        self.revokedAt = revokedAt
        self.status = revokedAt == nil ? "active" : "revoked"
    }
}

/// One pull page before it is wrapped in a `PullResponse`.
public struct PullPage: Sendable, Hashable {
    /// The changes, as the log stores them: a JSON page splices their JSON texts in, a binary
    /// page reads their binary codings, so no page parses JSON.
    public let stored: [StoredChange]
    /// The changes' JSON texts.
    public var changes: [String] { get throws { try stored.map { try $0.json } } }
    public let purges: [RecordRef]
    public let nextCursor: PullCursor
    public let hasMore: Bool
    /// The page compared every case the device may see again (`PullPlanner.needsFullReconcile`).
    public var fullReconcile = false
    /// A bootstrap page's merged states, as the device may see them (`BootstrapOperation`).
    public var states: [SentState] = []
    /// On a bootstrap's first page: the history it leaves out, for `GET /v1/history`.
    public var history: HistoryCursor?
    /// On a stream page pulled with states (`PullRequest.states`): the records the device gained
    /// access to, which `states` holds instead of their history, each with the history cursor
    /// scoped to it. A page that names any carries `states`, even when empty.
    public var gained: [GainedRecord] = []
}

/// A merged state a page sends: its record, and its bytes in the coding the wire carries
/// (`RecordState.binaryEncoded()`, `StateBatch`), which a bootstrap page takes from the store as
/// they are.
public struct SentState: Sendable, Hashable {
    public let entity: Entity
    public let id: String
    public let coding: [UInt8]

    init(entity: Entity, id: String, coding: [UInt8]) {
        self.entity = entity
        self.id = id
        self.coding = coding
    }

    init(_ state: RecordState) {
        self.init(entity: state.entity, id: state.id, coding: state.binaryEncoded())
    }
}

/// A record a stream page handed out as its merged state because the device gained access to it
/// (`PullOperation`), and the history that state stands for (`GET /v1/history`).
public struct GainedRecord: Sendable, Hashable {
    public let record: RecordRef
    public let history: HistoryCursor

    public init(record: RecordRef, history: HistoryCursor) {
        self.record = record
        self.history = history
    }
}
