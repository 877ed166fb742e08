import Foundation
import HTTPTypes
import KakehashiServer
import KakehashiShared
import Testing

/// Page streams (`GET /v1/pull?…&pages=N`, `PageStream`, feature `page-streams`): several pages
/// in one response, each made as if asked alone. Real HTTP on loopback, real tokens, both stores.
/// What happens between two pages of one response is put there by the store's hook
/// (`RunningStore.sessionPulls`), which runs before a page's transaction begins.
@Suite struct PageStreamTests {
    static let streamAccept: HTTPFields = [
        .accept: "\(PageStream.mediaType), \(BinaryPage.mediaType);q=0.9, application/json;q=0.5"
    ]

    static func hook(_ server: TestServer) throws -> SessionPullHook {
        try #require(server.store as? RunningStore, "the test stores are RunningStores").sessionPulls
    }

    /// Cases of every level by two programs, with events, and a few edits: many pages at small limits.
    static func makeLog(_ server: TestServer, _ client: APIClient) async throws -> (owner: Laptop, reader: Laptop) {
        let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
        let planner = try await server.advisor("鈴木一郎", program: "matching-planner", client: client)
        let reader = try await server.advisor("佐藤花子", program: "business-production", client: client)
        for level in ["open", "confidential", "strict"] {
            let made = try await AccessTests.makeCase(by: owner, level: level)
            owner.write(.case, made.case, "stage", .string("discovery"))
            _ = try await AccessTests.makeCase(by: planner, level: level, program: "matching-planner")
        }
        try await owner.sync()
        return (owner, reader)
    }

    /// What a page hands out, without its server time.
    static func summary(_ page: PullResponse) -> String {
        "\(page.changes.map(\.id.description)) \(page.purges) \(page.states?.count ?? -1) \(page.nextCursor) \(page.hasMore)"
    }

    @Test(arguments: StoreKind.available, [false, true])
    func aStreamHandsOutExactlyThePagesAskedOneByOne(kind: StoreKind, bootstraps: Bool) async throws {
        let server = try await TestServer.make(kind)
        try await server.run(.live) { client in
            let (_, reader) = try await Self.makeLog(server, client)
            let streamed = try await server.secondDevice(of: reader, client: client)
            (reader.bootstraps, streamed.bootstraps) = (bootstraps, bootstraps)
            reader.binaryPages = true

            var single: [PullResponse] = []
            while try await reader.pullPage(limit: 2) { single.append(try #require(reader.lastPage)) }
            single.append(try #require(reader.lastPage))
            var pages: [PullResponse] = []
            var streams = 0
            while pages.last?.hasMore != false {
                let stream = try await streamed.pullStream(pages: 3, limit: 2)
                #expect(stream.ending == .end)
                #expect(stream.pages.count == 3 || stream.pages.last?.hasMore == false)
                pages += stream.pages
                streams += 1
            }
            #expect(streams > 2, "several streams of several pages")
            #expect(pages.map(Self.summary) == single.map(Self.summary))
            #expect(try streamed.canonicalState() == reader.canonicalState(), "\(streamed.differences(from: reader))")
        }
    }

    enum Cutoff: String, CaseIterable, Sendable {
        case revocation, deactivation
    }

    /// A device revoked (or its advisor deactivated) while its stream runs gets no page after it:
    /// the next page's transaction reads the token, and the stream ends with the 401 that page
    /// alone would have had.
    @Test(arguments: StoreKind.available, Cutoff.allCases)
    func aStreamEndsAtTheFirstPageAfterARevocation(kind: StoreKind, cutoff: Cutoff) async throws {
        let server = try await TestServer.make(kind)
        try await server.run(.live) { client in
            let (_, reader) = try await Self.makeLog(server, client)
            let hook = try Self.hook(server)
            hook.reset()
            hook.before(page: 3) {
                switch cutoff {
                case .revocation: try await server.admin.revoke(reader.device.rawValue)
                case .deactivation: try await server.admin.deactivateAdvisor(reader.advisor)
                }
            }
            let stream = try await reader.pullStream(pages: 20, limit: 1)
            #expect(stream.pages.count == 2)
            #expect(stream.pages.last?.hasMore == true)
            guard case .error(let status, let body) = stream.ending else {
                Issue.record("the stream ended with \(String(describing: stream.ending)), not an error")
                return
            }
            #expect(status == 401)
            #expect(try JSONDecoder().decode(ErrorResponse.self, from: Data(body)).error.kind == .revoked)
            #expect(hook.pages == 3, "no page is made after the refused one")
            let next = try await client.pull(after: reader.cursor, token: reader.token)
            #expect(next.status == .unauthorized && next.error?.kind == .revoked)
        }
    }

    /// An advisor moved to another program between two pages of one response: the next page
    /// touching the case purges it and hands out nothing but its stub fields, as a request of its
    /// own would; the new program's confidential case arrives in full.
    @Test(arguments: StoreKind.available)
    func aProgramMoveBetweenTwoPagesPurgesInTheSameStream(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run(.live) { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let planner = try await server.advisor("鈴木一郎", program: "matching-planner", client: client)
            let mover = try await server.advisor("佐藤花子", program: "business-production", client: client)
            let ours = try await AccessTests.makeCase(by: owner)
            let theirs = try await AccessTests.makeCase(by: planner, program: "matching-planner")
            try await mover.sync()
            #expect(mover.record(.case, ours.case)?.value("title") == .string(AccessTests.caseTitle))
            for stage in ["discovery", "prototyping", "contract", "follow-up"] {
                owner.write(.case, ours.case, "summary", .string(AccessTests.caseSummary + stage))
                owner.write(.case, ours.case, "stage", .string(stage))
            }
            try await owner.sync()

            let hook = try Self.hook(server)
            hook.reset()
            hook.before(page: 2) {
                try await AccessTests.moveAdvisor(mover.advisor, to: "matching-planner", in: server.store)
            }
            let stream = try await mover.pullStream(pages: 20, limit: 1)
            #expect(stream.ending == .end)
            #expect(stream.pages.last?.hasMore == false)
            let first = try #require(stream.pages.first)
            #expect(first.changes.contains { $0.record == ours.case && $0.field == "summary" })
            let later = stream.pages.dropFirst()
            #expect(later.first?.purges.contains(RecordRef(entity: .case, record: ours.case)) == true)
            for page in later {
                #expect(!page.changes.contains { $0.record == ours.case && $0.field == "summary" })
                #expect(!page.changes.contains { $0.record == ours.event })
            }
            #expect(mover.record(.case, ours.case)?.value("title") == .null)
            #expect(mover.record(.case, ours.case)?.value("stage") == .string("follow-up"))
            #expect(mover.events(of: ours.case).isEmpty)
            #expect(mover.record(.case, theirs.case)?.value("title") == .string(AccessTests.caseTitle))
            #expect(mover.events(of: theirs.case).count == 1)
        }
    }

    /// A laptop that crashes during a stream, having stored none, one or several of its pages,
    /// starts again from what it stored: a purge the stream handed out after that is handed out
    /// again, and the laptop ends with exactly what a device that never crashed holds.
    @Test(arguments: StoreKind.available, [0, 1, 3])
    func aLaptopThatCrashesMidStreamLosesNoPurge(kind: StoreKind, stored: Int) async throws {
        let server = try await TestServer.make(kind)
        try await server.run(.live) { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let colleague = try await server.advisor("佐藤花子", program: "business-production", client: client)
            let made = try await AccessTests.makeCase(by: owner)
            let other = try await AccessTests.makeCase(by: owner, level: "open")
            try await colleague.sync()  // holds the case in full
            func setLevel(_ level: String) async throws {
                owner.write(.case, made.case, "level", .string(level))
                try await owner.sync()
            }
            // Page 1 purges the case (now strict); between pages 1 and 2 it becomes confidential
            // again, and the stream's last page back-fills it.
            try await setLevel("strict")
            for stage in ["discovery", "prototyping", "contract"] {
                owner.write(.case, other.case, "stage", .string(stage))
            }
            try await owner.sync()
            let hook = try Self.hook(server)
            hook.reset()
            // Written straight into the log: the test's HTTP client is busy with the stream.
            let reopen = owner.write(.case, made.case, "level", .string("confidential"))
            owner.pending.removeAll { $0.id == reopen.id }
            hook.before(page: 2) {
                _ = try await server.store.append([reopen], viewer: nil, wallMillis: Laptop.now(), onlyIfEmpty: false)
            }
            let stream = try await colleague.pullStream(pages: 20, limit: 1, applying: stored)
            #expect(stream.ending == .end)
            #expect(stream.pages.first?.purges == [RecordRef(entity: .case, record: made.case)])
            #expect(stream.pages.last?.changes.contains { $0.record == made.case && $0.field == "title" } == true)
            // The case is strict again; the laptop, restarted, pulls from what it stored.
            try await setLevel("strict")
            try await colleague.pullAll()
            // Strict: nothing of it, not even a stub.
            #expect(colleague.record(.case, made.case) == nil)
            #expect(colleague.events(of: made.case).isEmpty)
            let fresh = try await server.secondDevice(of: colleague, client: client)
            try await fresh.pullAll()
            #expect(try colleague.canonicalState() == fresh.canonicalState(), "\(colleague.differences(from: fresh))")
        }
    }

    /// A client that does not list the stream's type in `Accept` (every older laptop, curl) gets
    /// one page in the form it asked for, whatever `pages` says.
    @Test(arguments: StoreKind.available)
    func anOlderClientNeverGetsAStream(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run(.live) { client in
            let (_, reader) = try await Self.makeLog(server, client)
            let json = try await client.send(.get, "/v1/pull?after=0&limit=2&pages=5", token: reader.token)
            #expect(json.status == .ok)
            #expect(json.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(try json.decode(PullResponse.self).changes.count == 2)
            let binary = try await client.send(
                .get, "/v1/pull?after=0&limit=2&pages=5", token: reader.token,
                headers: [.accept: "\(BinaryPage.mediaType), application/json;q=0.5"])
            #expect(binary.headers[.contentType] == BinaryPage.mediaType)
            #expect(try BinaryPage.pullResponse(from: [UInt8](binary.body)).changes.count == 2)
            #expect(
                json.headers[HTTPField.Name(WireProtocol.featuresHeader)!]?.contains(WireProtocol.pageStreamsFeature)
                    == true)
        }
    }

    @Test(arguments: StoreKind.available)
    func aBadPageCountIsRefusedNamingTheField(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run(.live) { client in
            let (_, reader) = try await Self.makeLog(server, client)
            for pages in ["0", "-1", "65", "abc", "", "99999999999999999999999999"] {
                let response = try await client.send(
                    .get, "/v1/pull?after=0&pages=\(pages)", token: reader.token, headers: Self.streamAccept)
                #expect(response.status == .badRequest, "pages=\(pages)")
                #expect(response.error?.kind == .malformed && response.error?.field == "pages", "pages=\(pages)")
                #expect(response.error?.message.contains("1 to \(WireProtocol.maxStreamPages)") == true)
            }
        }
    }

    /// The laptop reads a stream as its bytes come, in pieces of any size; bytes that are not a
    /// stream are refused, never read as a shorter one.
    @Test func aStreamReadsTheSameInPiecesOfAnySizeAndRefusesDamage() throws {
        let page = BinaryPage.encode(
            PullResponse(changes: [], purges: [], nextCursor: "12.0", hasMore: true, serverTime: 1_763_700_000_000))
        let error = Array(#"{"error":{"code":"revoked","message":"revoked"}}"#.utf8)
        let stream =
            PageStream.header + PageStream.pageFrame(page, serverMicroseconds: 1_500)
            + PageStream.pageFrame(page, serverMicroseconds: 300) + PageStream.errorFrame(status: 401, body: error)
        for piece in [1, 2, 7, stream.count] {
            var reader = PageStream.Reader()
            var frames: [PageStream.Frame] = []
            var offset = 0
            while offset < stream.count {
                reader.append(Array(stream[offset..<min(stream.count, offset + piece)]))
                offset += piece
                while let frame = try reader.next() { frames.append(frame) }
            }
            #expect(
                frames == [
                    .page(page, serverMicroseconds: 1_500), .page(page, serverMicroseconds: 300),
                    .error(status: 401, body: error),
                ])
            #expect(!reader.holdsPartialFrame)
        }
        var cut = PageStream.Reader()
        cut.append(Array((PageStream.header + PageStream.pageFrame(page, serverMicroseconds: 1)).dropLast()))
        #expect(try cut.next() == nil)
        #expect(cut.holdsPartialFrame)
        for damaged in [
            Array("KKPX".utf8) + [1, 0], PageStream.header + [9], PageStream.header + PageStream.endFrame + [0],
            PageStream.header + [1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
        ] {
            var reader = PageStream.Reader()
            reader.append(damaged)
            #expect(throws: KakehashiError.self) {
                while try reader.next() != nil {}
            }
        }
    }
}
