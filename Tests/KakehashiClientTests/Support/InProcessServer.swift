import Foundation
import KakehashiClient
import KakehashiShared

/// A minimal sync server living in the test process: a change log with sequence numbers,
/// enrollment, idempotent push and paged pull — no access rules. For fast unit tests of the
/// client's sync engine; the real server is exercised by the end-to-end tests.
actor InProcessServer {
    struct Enrolled {
        let advisor: String
        let device: DeviceID
    }

    static let program = "business-production"

    private(set) var log: [Change] = []
    private var seen: Set<ChangeID> = []
    private var codes: [String: String] = [:]
    private var tokens: [String: Enrolled] = [:]
    private var revoked: Set<String> = []
    private var deviceCount = 0
    private var adminMaker = ChangeMaker(
        clock: HybridClock(device: DeviceID("server-test")!), author: WireProtocol.systemAuthor)
    /// Fields whose changes the server refuses as forbidden (to test rejections).
    var forbiddenFields: Set<String> = []
    /// Fields whose changes the server finds invalid: a push holding one is refused whole (422).
    var invalidFields: Set<String> = []
    /// Pushes with more changes than this are refused as too large (413).
    var maxPushChanges = WireProtocol.maxPushChanges
    private(set) var pushSizes: [Int] = []
    /// Failures to answer the next requests with, before handling them normally.
    var scriptedFailures: [TransportFailure] = []
    /// Records to list in the next pull's purges.
    var pendingPurges: [RecordRef] = []
    /// Server wall clock.
    var now: @Sendable () -> Int64 = FieldClient.systemClock
    private(set) var pullRequests = 0

    /// Adds an advisor to the directory (through the log, like the real server) and returns a
    /// one-time enrollment code for them.
    func addAdvisor(
        name: String, role: String = "business-producer", program: String = program
    ) -> (id: String, code: String) {
        var generator = SystemRandomNumberGenerator()
        let id = RecordID.uuidV7(unixMillis: now(), using: &generator)
        for (field, value) in [("name", name), ("role", role), ("program", program)] {
            let change = adminMaker.make(
                .set, entity: .advisor, record: id, field: field, value: .string(value), state: nil, wallMillis: now())
            append(change)
        }
        let code = "code-\(id.prefix(8))-\(log.count)"
        codes[code] = id
        return (id, code)
    }

    func revoke(advisor: String) {
        for (token, enrolled) in tokens where enrolled.advisor == advisor { revoked.insert(token) }
    }

    func setForbidden(_ fields: Set<String>) { forbiddenFields = fields }
    func setInvalid(_ fields: Set<String>) { invalidFields = fields }
    func setMaxPushChanges(_ count: Int) { maxPushChanges = count }
    func script(_ failures: [TransportFailure]) { scriptedFailures = failures }
    func purgeNext(_ refs: [RecordRef]) { pendingPurges = refs }
    func setClock(_ clock: @escaping @Sendable () -> Int64) { now = clock }

    private func append(_ change: Change) {
        guard seen.insert(change.id).inserted else { return }
        log.append(change)
    }

    private func takeScriptedFailure() -> TransportFailure? {
        scriptedFailures.isEmpty ? nil : scriptedFailures.removeFirst()
    }

    private func authenticate(_ token: String) throws(TransportFailure) -> Enrolled {
        if revoked.contains(token) {
            throw .status(401, ErrorResponse(code: .revoked, message: "device revoked"))
        }
        guard let enrolled = tokens[token] else {
            throw .status(401, ErrorResponse(code: .unauthorized, message: "unknown token"))
        }
        return enrolled
    }

    func enroll(_ request: EnrollRequest) throws(TransportFailure) -> EnrollResponse {
        guard let advisor = codes.removeValue(forKey: request.code) else {
            throw .status(401, ErrorResponse(code: .unauthorized, message: "unknown or used enrollment code"))
        }
        deviceCount += 1
        let device = DeviceID("dev-\(deviceCount)")!
        let token = "token-\(deviceCount)-\(UUID().uuidString)"
        tokens[token] = Enrolled(advisor: advisor, device: device)
        return EnrollResponse(device: device, token: token, advisor: advisor, serverTime: now())
    }

    func push(_ request: PushRequest, token: String) throws(TransportFailure) -> PushResponse {
        if let failure = takeScriptedFailure() { throw failure }
        _ = try authenticate(token)
        guard request.changes.count <= maxPushChanges else {
            throw .status(
                413, ErrorResponse(code: .tooLarge, message: "\(request.changes.count) changes in one push"))
        }
        if let index = request.changes.firstIndex(where: { $0.field.map(invalidFields.contains) ?? false }) {
            let change = request.changes[index]
            throw .status(
                422,
                ErrorResponse(
                    code: .invalidData, message: "change \(index) (\(change.id)): not accepted by this server",
                    field: change.field, change: change.id))
        }
        pushSizes.append(request.changes.count)
        var results: [PushResult] = []
        for change in request.changes {
            if seen.contains(change.id) {
                results.append(PushResult(id: change.id, status: .duplicate))
            } else if let field = change.field, forbiddenFields.contains(field) {
                results.append(
                    PushResult(
                        id: change.id, status: .rejected, code: .forbidden, reason: "\(field) may not be changed"))
            } else if change.hlc.millis - now() > HybridClock.defaultMaxDriftMillis {
                results.append(PushResult(id: change.id, status: .rejected, code: .clockSkew, reason: "clock ahead"))
            } else {
                append(change)
                results.append(PushResult(id: change.id, status: .accepted))
            }
        }
        return PushResponse(results: results, serverTime: now())
    }

    func pull(after cursor: String, limit: Int, token: String) throws(TransportFailure) -> PullResponse {
        pullRequests += 1
        if let failure = takeScriptedFailure() { throw failure }
        _ = try authenticate(token)
        guard let start = Int(cursor), start >= 0 else {
            throw .status(400, ErrorResponse(code: .malformed, message: "bad cursor", field: "after"))
        }
        let end = min(log.count, start + limit)
        let purges = pendingPurges
        pendingPurges = []
        return PullResponse(
            changes: Array(log[min(start, log.count)..<end]), purges: purges, nextCursor: String(end),
            hasMore: end < log.count, serverTime: now())
    }
}

/// The client's view of an `InProcessServer`: a `SyncTransport` that counts bytes as JSON would.
struct InProcessTransport: SyncTransport {
    let server: InProcessServer

    static func size(_ value: some Encodable) -> Int { (try? JSONEncoder().encode(value).count) ?? 0 }

    func enroll(_ request: EnrollRequest) async throws(TransportFailure) -> Transferred<EnrollResponse> {
        let response = try await server.enroll(request)
        return Transferred(response, bytes: Self.size(response))
    }

    func push(_ request: PushRequest, token: String) async throws(TransportFailure) -> Transferred<PushResponse> {
        let response = try await server.push(request, token: token)
        return Transferred(response, bytes: Self.size(request) + Self.size(response))
    }

    func pull(
        after cursor: String, limit: Int, token: String
    ) async throws(TransportFailure) -> Transferred<PullResponse> {
        let response = try await server.pull(after: cursor, limit: limit, token: token)
        return Transferred(response, bytes: Self.size(response))
    }
}
