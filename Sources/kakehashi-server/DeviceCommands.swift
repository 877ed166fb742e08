import ArgumentParser
import Foundation
import KakehashiServer
import KakehashiShared

struct Enroll: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a one-time enrollment code for an advisor; prints the code alone.")
    @OptionGroup var store: StoreOptions
    @Argument(help: "Advisor id.") var advisor: String
    @Option(help: "How long the code stays valid: 30m, 72h, 7d.") var ttl = "72h"

    func run() async throws {
        try await Main.withStore(store) { _, admin in
            print(try await admin.enroll(advisor: advisor, ttlSeconds: try DurationText.seconds(ttl)))
        }
    }
}

struct Devices: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List enrolled devices, the stale ones first.",
        discussion: """
            Columns: the device id, its name (`kakehashi init --name`, by default the laptop's \
            hostname), its advisor, the kakehashi version it last synced with, when it was last seen \
            (its last authenticated request, Japan time, to within a minute), its lag (log entries \
            between the head and what it last pulled) and its status (有効 active, 失効 revoked, \
            担当者無効 advisor-deactivated). Devices that may sync come first, the longest unseen (never seen) \
            first; revoked devices and those of deactivated advisors follow. Names and advisors are \
            shortened to fit $COLUMNS (default 80); --json has every field in full.
            """)
    @OptionGroup var store: StoreOptions
    @Flag(help: "Print one JSON document.") var json = false

    /// One device with its health, as `--json` prints it (every key present, null when unknown).
    struct Entry: Encodable {
        let id: String
        let name: String?
        let advisor: String
        let advisorName: String?
        let status: String
        let appVersion: String?
        let lastSeenAt: Int64?
        let pulledSeq: Int64?
        let lag: Int64
        let enrolledAt: Int64
        let revokedAt: Int64?

        enum CodingKeys: String, CodingKey {
            case id, name, advisor, advisorName, status, appVersion, lastSeenAt, pulledSeq, lag, enrolledAt, revokedAt
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(name, forKey: .name)
            try container.encode(advisor, forKey: .advisor)
            try container.encode(advisorName, forKey: .advisorName)
            try container.encode(status, forKey: .status)
            try container.encode(appVersion, forKey: .appVersion)
            try container.encode(lastSeenAt, forKey: .lastSeenAt)
            try container.encode(pulledSeq, forKey: .pulledSeq)
            try container.encode(lag, forKey: .lag)
            try container.encode(enrolledAt, forKey: .enrolledAt)
            try container.encode(revokedAt, forKey: .revokedAt)
        }
    }

    func run() async throws {
        try await Main.withStore(store) { store, admin in
            let devices = try await admin.deviceList()
            let report = try await store.deviceHealth()
            let health = Dictionary(report.devices.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            let names = Dictionary(
                try await admin.advisorList().map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
            let entries = Self.staleFirst(
                devices.map { device in
                    let state = health[device.id]
                    return Entry(
                        id: device.id.rawValue, name: device.name, advisor: device.advisor,
                        advisorName: names[device.advisor], status: device.status, appVersion: state?.appVersion,
                        lastSeenAt: state?.lastSeenAt, pulledSeq: state?.pulledSeq,
                        lag: state.map(report.lag) ?? report.head, enrolledAt: device.enrolledAt,
                        revokedAt: device.revokedAt)
                })
            if json { return try Main.printJSON(entries) }
            let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init).map { max(40, $0) } ?? 80
            print(Self.table(entries, columns: columns))
        }
    }

    /// Devices that may sync first, then the others; in each group the longest unseen first
    /// (never seen before all, by enrollment).
    static func staleFirst(_ entries: [Entry]) -> [Entry] {
        entries.sorted { left, right in
            let groups = (left.status == "active" ? 0 : 1, right.status == "active" ? 0 : 1)
            if groups.0 != groups.1 { return groups.0 < groups.1 }
            switch (left.lastSeenAt, right.lastSeenAt) {
            case (nil, .some): return true
            case (.some, nil): return false
            case (let l?, let r?) where l != r: return l < r
            default: return (left.enrolledAt, left.id) < (right.enrolledAt, right.id)
            }
        }
    }

    /// The table within `columns`: the id, version, time, lag and status in full; the name and the
    /// advisor share what is left.
    static func table(_ entries: [Entry], columns: Int) -> String {
        let headers = ["DEVICE", "名前", "支援人材", "版", "最終接続(JST)", "遅れ", "状態"]
        let rows = entries.map { entry in
            [
                entry.id, entry.name ?? "", entry.advisorName ?? entry.advisor, entry.appVersion ?? "-",
                entry.lastSeenAt.map(time) ?? "未接続", String(entry.lag), statusLabels[entry.status] ?? entry.status,
            ]
        }
        let widest = { (index: Int) in ([headers] + rows).map { DisplayWidth.of($0[index]) }.max() ?? 0 }
        let fixed = [0, 3, 4, 5, 6].map(widest).reduce(0, +)
        let free = max(12, columns - fixed - 2 * (headers.count - 1))
        let advisorWidth = min(widest(2), max(6, free / 2))
        let nameWidth = max(6, free - advisorWidth)
        var table = TextTable(headers: headers)
        table.maxColumnWidth = Int.max / 4
        for row in rows {
            var row = row.map { $0.replacingOccurrences(of: "\n", with: " ") }
            row[1] = DisplayWidth.truncate(row[1], to: nameWidth)
            row[2] = DisplayWidth.truncate(row[2], to: advisorWidth)
            table.append(row)
        }
        return table.render()
    }

    /// The status as the table shows it (`--json` keeps `active`, `revoked`, `advisor-deactivated`).
    static let statusLabels = ["active": "有効", "revoked": "失効", "advisor-deactivated": "担当者無効"]

    static let timeFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Asia/Tokyo")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter
    }()

    /// `2026-12-02 19:43`, Japan time (the header says JST).
    static func time(_ millis: Int64) -> String {
        timeFormatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}

struct Revoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Revoke a device: its next request gets 401 revoked and it wipes its data.")
    @OptionGroup var store: StoreOptions
    @Argument(help: "Device id (see `devices`).") var device: String

    func run() async throws {
        try await Main.withStore(store) { _, admin in try await admin.revoke(device) }
    }
}
