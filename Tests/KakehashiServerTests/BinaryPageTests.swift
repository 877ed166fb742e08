import Foundation
import HTTPTypes
import Hummingbird
import KakehashiServer
import KakehashiShared
import Testing

/// Binary pages (Docs/protocol.md, "Binary pages"), over both stores: a device that asks for
/// them with `Accept` receives, page for page, what a device reading JSON receives — the same
/// changes, states, purges and cursors, so the same access rules — and a client that does not
/// ask still gets JSON.
@Suite struct BinaryPageTests {
    /// Two more devices of `laptop`'s advisor that sync alike, one reading JSON, one binary pages.
    static func pair(
        _ laptop: Laptop, bootstraps: Bool, _ server: TestServer, _ client: APIClient
    ) async throws -> (json: Laptop, binary: Laptop) {
        let json = try await server.secondDevice(of: laptop, client: client)
        let binary = try await server.secondDevice(of: laptop, client: client)
        json.bootstraps = bootstraps
        binary.bootstraps = bootstraps
        binary.binaryPages = true
        return (json, binary)
    }

    /// What two laptops received must match, item for item and in order.
    static func expectSameReceived(_ json: Laptop, _ binary: Laptop, _ what: String) throws {
        #expect(binary.received == json.received, "changes, \(what)")
        #expect(binary.receivedStates == json.receivedStates, "states, \(what)")
        #expect(binary.purged == json.purged, "purges, \(what)")
        #expect(binary.history == json.history, "history, \(what)")
        #expect(try binary.canonicalState() == json.canonicalState(), "merged records, \(what)")
    }

    /// On a log whose rows keep their JSON and on one whose rows keep only their binary coding
    /// (`LogFormat`), whose JSON pages are made from that coding.
    @Test(arguments: StoreKind.available, [LogFormat.json, .binary])
    func binaryPagesCarryWhatJSONPagesCarryForEveryAdvisor(kind: StoreKind, format: LogFormat) async throws {
        let server = try await TestServer.make(kind, format: format)
        try await server.run { client in
            let world = try await BootstrapTests.world(server, client)
            for bootstraps in [false, true] {
                for viewer in [world.owner, world.colleague, world.outsider, world.participant] {
                    let (json, binary) = try await Self.pair(viewer, bootstraps: bootstraps, server, client)
                    // Pages of three cross every entity boundary.
                    try await json.pullAll(limit: 3)
                    try await binary.pullAll(limit: 3)
                    try await json.downloadHistory(limit: 4)
                    try await binary.downloadHistory(limit: 4)
                    let what = "\(viewer.advisor), \(bootstraps ? "bootstrap" : "replay")"
                    #expect(!binary.received.isEmpty || !binary.receivedStates.isEmpty, "\(what)")
                    try Self.expectSameReceived(json, binary, what)
                    #expect(
                        !BootstrapTests.received(BootstrapTests.hiddenTitle, by: binary)
                            || viewer === world.owner || viewer === world.participant, "\(what)")
                }
            }
            // Access moves: the case raised to strict takes the colleague's copy away, and a purge
            // comes the same way in both forms.
            let (json, binary) = try await Self.pair(world.colleague, bootstraps: true, server, client)
            try await json.pullAll()
            try await binary.pullAll()
            world.owner.write(.case, world.confidential, "level", .string("secret"))
            #expect(try await world.owner.sync().allSatisfy { $0.status == .accepted })
            try await json.pullAll()
            try await binary.pullAll()
            #expect(binary.purged.contains(RecordRef(entity: .case, record: world.confidential)))
            try Self.expectSameReceived(json, binary, "after a level was raised")
            #expect(!BootstrapTests.received(BootstrapTests.hiddenBody, by: binary))
        }
    }

    @Test(arguments: StoreKind.available)
    func theServerAnswersInTheFormAcceptAsksFor(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let laptop = try await server.advisor("山田太郎", program: "business-production", client: client)
            _ = laptop.create(.organization, ["name": .string("株式会社浜松精密"), "kind": .string("sme")])
            #expect(try await laptop.sync().allSatisfy { $0.status == .accepted })
            let cases: [(HTTPFields, String)] = [
                ([:], "application/json; charset=utf-8"),
                ([.accept: "application/json"], "application/json; charset=utf-8"),
                ([.accept: "\(BinaryPage.mediaType);q=0, application/json"], "application/json; charset=utf-8"),
                ([.accept: "application/json;q=0.5, \(BinaryPage.mediaType)"], BinaryPage.mediaType),
                ([.accept: BinaryPage.mediaType.uppercased()], BinaryPage.mediaType),
            ]
            for (headers, expected) in cases {
                let response = try await client.pull(after: "0", token: laptop.token, headers: headers)
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == expected, "Accept: \(headers[.accept] ?? "none")")
                #expect(response.headers[.vary]?.contains("Accept") == true)
                let page =
                    expected == BinaryPage.mediaType
                    ? try BinaryPage.pullResponse(from: [UInt8](response.body))
                    : try response.decode(PullResponse.self)
                #expect(page.changes == laptop.received, "the same page in either form")
            }
            // The features header says the server writes binary pages.
            let response = try await client.pull(after: "0", token: laptop.token)
            let features = response.headers[HTTPField.Name(WireProtocol.featuresHeader)!] ?? ""
            #expect(
                features.split(separator: ",").contains {
                    $0.trimmingCharacters(in: .whitespaces) == WireProtocol.binaryPagesFeature
                }, "\(features)")
            // Metrics count the pages by form: how many devices still read JSON.
            let metrics = try await client.send(.get, "/metrics")
            let text = String(decoding: metrics.body, as: UTF8.self)
            #expect(text.contains("kakehashi_pages_total{form=\"binary\"} 2"), "\(text)")
            #expect(text.contains("kakehashi_pages_total{form=\"json\"} 5"), "\(text)")
        }
    }
}
