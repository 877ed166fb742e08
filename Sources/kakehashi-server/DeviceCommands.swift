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
    static let configuration = CommandConfiguration(abstract: "List enrolled devices.")
    @OptionGroup var store: StoreOptions
    @Flag(help: "Print one JSON document.") var json = false

    func run() async throws {
        try await Main.withStore(store) { _, admin in
            let devices = try await admin.deviceList()
            if json { return try Main.printJSON(devices) }
            let names = Dictionary(
                try await admin.advisorList().map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
            print(
                TextTable.render(
                    header: ["DEVICE", "名前", "支援人材", "登録日時", "状態"],
                    rows: devices.map {
                        [
                            $0.id.rawValue, $0.name ?? "", names[$0.advisor] ?? $0.advisor,
                            Self.time($0.enrolledAt), $0.status,
                        ]
                    }))
        }
    }

    static func time(_ millis: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
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
