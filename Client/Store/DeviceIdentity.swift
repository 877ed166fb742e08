import GRDB
import KakehashiShared

/// Who this laptop is to the server, and its sync bookkeeping: one row in `device`.
public struct DeviceIdentity: Sendable, Hashable {
    public var device: DeviceID
    public var advisor: String
    public var token: String
    public var server: String
    public var cacert: String?
    /// The counter of the last change this device made.
    public var counter: Int64
    /// The last HLC timestamp issued or received.
    public var clock: HLC
    /// Server time minus laptop time, in milliseconds, as measured at the last sync.
    public var clockOffset: Int64
    /// The pull cursor: everything up to it has been applied.
    public var cursor: String
    /// When the last sync finished (Unix milliseconds).
    public var lastSync: Int64?
    /// The identity of the server log the replica mirrors; nil before the first answer that
    /// carried one (`SyncEngine` adopts it then).
    public var epoch: String? = nil
    /// A recovery from a restored server is under way (`SyncEngine.beginRecovery`).
    public var recovering = false
    /// The optional protocol features the server listed in its last answer
    /// (`WireProtocol.featuresHeader`), sorted.
    public var features: [String] = []
    /// The history cursor of a bootstrap from states whose history has not all arrived
    /// (`GET /v1/history`); nil when the laptop holds every change it received.
    public var history: String? = nil
    /// The search index lacks records a bootstrap received: it is rebuilt in one pass once the
    /// bootstrap's pages are all in (`SearchIndex.rebuild`).
    public var indexPending = false

    static func load(_ db: Database) throws -> DeviceIdentity {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM device WHERE singleton = 1") else {
            throw KakehashiError(
                .notAuthorized, "this store is not enrolled; run `kakehashi init --server URL --code CODE`")
        }
        let deviceText: String = row["device"]
        let clockText: String = row["clock"]
        guard let device = DeviceID(deviceText), let clock = HLC(clockText) else {
            throw KakehashiError(.internalFailure, "the device row of the local store is damaged")
        }
        return DeviceIdentity(
            device: device, advisor: row["advisor"], token: row["token"], server: row["server"], cacert: row["cacert"],
            counter: row["counter"], clock: clock, clockOffset: row["clock_offset"], cursor: row["cursor"],
            lastSync: row["last_sync"], epoch: row["epoch"], recovering: row["recovering"],
            features: (row["features"] as String?).map { $0.split(separator: ",").map(String.init) } ?? [],
            history: row["history"], indexPending: row["index_pending"])
    }

    func save(_ db: Database) throws {
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO device
                    (singleton, device, advisor, token, server, cacert, counter, clock, clock_offset, cursor, last_sync,
                     epoch, recovering, features, history, index_pending)
                VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                device.rawValue, advisor, token, server, cacert, counter, clock.description, clockOffset, cursor,
                lastSync, epoch, recovering, features.joined(separator: ","), history, indexPending,
            ])
    }

    /// A change maker that continues this device's counter and clock.
    var changeMaker: ChangeMaker {
        ChangeMaker(clock: HybridClock(device: device, last: clock), counter: counter, author: advisor)
    }

    mutating func update(from maker: ChangeMaker) {
        counter = maker.counter
        clock = maker.clock.last
    }
}
