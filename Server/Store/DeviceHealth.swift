import KakehashiShared

/// What one device was last seen doing, as `DeviceActivity` hands it to
/// `ChangeLogStore.recordActivity`.
public struct DeviceActivityRecord: Sendable, Hashable {
    public let device: DeviceID
    /// Server time (Unix millis) of the device's last authenticated request.
    public let lastSeenAt: Int64
    /// The client's version from its `User-Agent: kakehashi/VERSION`; nil keeps the stored one.
    public let appVersion: String?
    /// The log position of the last pull page handed to the device; nil keeps the stored one.
    public let pulledSeq: Int64?

    public init(device: DeviceID, lastSeenAt: Int64, appVersion: String?, pulledSeq: Int64?) {
        self.device = device
        self.lastSeenAt = lastSeenAt
        self.appVersion = appVersion
        self.pulledSeq = pulledSeq
    }
}

/// The health columns of one device (`devices` table: `app_version`, `last_seen_at`, `pulled_seq`).
public struct DeviceHealth: Sendable, Hashable {
    public let id: DeviceID
    public let advisor: String
    public let revoked: Bool
    public let appVersion: String?
    public let lastSeenAt: Int64?
    public let pulledSeq: Int64?

    public init(
        id: DeviceID, advisor: String, revoked: Bool, appVersion: String?, lastSeenAt: Int64?, pulledSeq: Int64?
    ) {
        self.id = id
        self.advisor = advisor
        self.revoked = revoked
        self.appVersion = appVersion
        self.lastSeenAt = lastSeenAt
        self.pulledSeq = pulledSeq
    }
}

/// Every device's health and the log head, read in one transaction.
public struct DeviceHealthReport: Sendable, Hashable {
    /// The highest sequence number in the log (0 when it is empty).
    public let head: Int64
    public let devices: [DeviceHealth]

    public init(head: Int64, devices: [DeviceHealth]) {
        self.head = head
        self.devices = devices
    }

    /// Log entries between the head and what the device last pulled (all of them when it never
    /// pulled).
    public func lag(_ device: DeviceHealth) -> Int64 { max(0, head - (device.pulledSeq ?? 0)) }
}
