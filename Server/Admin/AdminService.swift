import Foundation
import KakehashiShared

/// The administrators' operations (`kakehashi-server program add`, `advisor add`, `enroll`, …).
///
/// Directory records are written through the change log like any record, so they reach laptops
/// by pull. Each process writes as its own device `server-<random hex>` with the author
/// `WireProtocol.systemAuthor`, and starts its clock above the highest HLC in the log, so admin
/// writes from several processes never collide and always win over older values.
public actor AdminService {
    let store: any ChangeLogStore
    let now: @Sendable () -> Int64
    private var maker: ChangeMaker?

    public init(store: any ChangeLogStore, now: @escaping @Sendable () -> Int64 = serverWallMillis) {
        self.store = store
        self.now = now
    }

    /// The programs a new server starts with (Docs/design.md §4).
    public static let initialPrograms: [(id: String, name: String, ministry: String)] = [
        ("business-production", "事業プロデュース", "meti"),
        ("matching-planner", "マッチングプランナー（JST）", "mext"),
        ("ip-advisor", "産学連携知的財産アドバイザー（INPIT）", "meti"),
        ("ip-producer", "知的財産プロデューサー（INPIT）", "meti"),
        ("coordinator", "産学官連携コーディネーター", "mext"),
        ("cabinet-office", "内閣府", "cao"),
    ]

    /// Writes the initial programs when the log is empty; a no-op otherwise (also when another
    /// process seeded it a moment earlier).
    public func seedProgramsIfEmpty() async throws {
        guard try await store.changeCount() == 0 else { return }
        var changes: [Change] = []
        for program in Self.initialPrograms {
            changes += try await makeChanges(
                .program, program.id, [("name", .string(program.name)), ("ministry", .string(program.ministry))],
                fresh: true)
        }
        _ = try await store.append(changes, viewer: nil, wallMillis: now(), onlyIfEmpty: true)
    }

    /// Adds a program.
    /// - Throws: `KakehashiError` (`.invalidData`) naming `id`, `name` or `ministry`.
    public func addProgram(id: String, name: String, ministry: String) async throws {
        let schema = Entity.program.schema
        let id = try schema.validateID(id, field: "id")
        let nameValue = try schema.field("name").parse(name)
        let ministryValue = try schema.field("ministry").parse(ministry)
        if let existing = try await store.record(.program, id), !existing.isDeleted {
            throw KakehashiError.invalid("id", "program '\(id)' already exists")
        }
        try await write(try await makeChanges(.program, id, [("name", nameValue), ("ministry", ministryValue)]))
    }

    /// Adds an advisor and returns the new id.
    /// - Throws: `KakehashiError` (`.invalidData`) naming the bad field and listing valid values.
    public func addAdvisor(
        name: String, role: String, program: String, prefecture: String?, contact: String?
    )
        async throws -> String
    {
        let schema = Entity.advisor.schema
        var values: [(String, FieldValue)] = [
            ("name", try schema.field("name").parse(name)),
            ("role", try schema.field("role").parse(role)),
        ]
        let programs = try await programList().map(\.id)
        guard programs.contains(program) else {
            throw KakehashiError.invalid(
                "program", "unknown program '\(program)'; valid values: \(programs.joined(separator: ", "))",
                validValues: programs)
        }
        values.append(("program", .string(program)))
        if let prefecture { values.append(("prefecture", try schema.field("prefecture").parse(prefecture))) }
        if let contact { values.append(("contact", try schema.field("contact").parse(contact))) }
        values.append(("active", .bool(true)))
        var generator = SystemRandomNumberGenerator()
        let id = RecordID.uuidV7(unixMillis: now(), using: &generator)
        try await write(try await makeChanges(.advisor, id, values, fresh: true))
        return id
    }

    /// Marks an advisor inactive: every device of theirs gets 401 `revoked` from now on.
    public func deactivateAdvisor(_ id: String) async throws {
        let id = try activeAdvisor(id, allowInactive: true)
        guard try await store.record(.advisor, id) != nil else {
            throw KakehashiError.invalid("advisor", "no advisor with id \(id); see kakehashi-server advisors")
        }
        try await write(try await makeChanges(.advisor, id, [("active", .bool(false))]))
    }

    /// Hands a case to a new owner (`kakehashi-server case reassign`): the administrators' path
    /// when an owner leaves or is deactivated, since only a case's owner may change its owner.
    /// The case keeps its level, program and participants.
    /// - Throws: `KakehashiError` (`.invalidData`) naming `case` or `advisor`.
    public func reassignCase(_ caseID: String, to advisor: String) async throws {
        guard let id = RecordID.canonicalUUID(caseID) else {
            throw KakehashiError.invalid("case", "'\(caseID)' is not a case id (a UUID)")
        }
        guard let state = try await store.record(.case, id), !state.isDeleted else {
            throw KakehashiError.invalid("case", "no case with id \(id)")
        }
        let owner = try activeAdvisor(advisor, allowInactive: false)
        guard let directory = try await store.record(.advisor, owner),
            AccessPolicy.Viewer(advisor: owner, state: directory).active
        else {
            throw KakehashiError.invalid("advisor", "\(owner) is not an active advisor; see kakehashi-server advisors")
        }
        if state.value("owner").stringValue == owner { return }
        try await write(try await makeChanges(.case, id, [("owner", .string(owner))]))
    }

    /// A case as the administrators list it: what identifies it, never its content.
    public struct CaseEntry: Codable, Sendable, Hashable {
        public let id: String
        public let level: String
        public let program: String?
        public let stage: String?
    }

    /// The live cases an advisor owns (`case list --owner`), to reassign a leaver's cases.
    public func cases(ownedBy advisor: String) async throws -> [CaseEntry] {
        let owner = try activeAdvisor(advisor, allowInactive: true)
        return try await store.records(.case).filter { !$0.isDeleted && $0.value("owner").stringValue == owner }.map {
            CaseEntry(
                id: $0.id, level: AccessPolicy.CaseFacts($0).level, program: $0.value("program").stringValue,
                stage: $0.value("stage").stringValue)
        }
    }

    /// Creates a one-time enrollment code for an active advisor, valid for `ttlSeconds`.
    /// - Returns: the code, which is shown once and stored only as a hash.
    public func enroll(advisor: String, ttlSeconds: Int64) async throws -> String {
        let id = try activeAdvisor(advisor, allowInactive: false)
        let state = try await store.record(.advisor, id)
        guard let state else {
            throw KakehashiError.invalid("advisor", "no advisor with id \(id); see kakehashi-server advisors")
        }
        guard AccessPolicy.Viewer(advisor: id, state: state).active else {
            throw KakehashiError.invalid("advisor", "advisor \(id) is deactivated")
        }
        let code = Secrets.newEnrollmentCode()
        let time = now()
        try await store.addEnrollmentCode(
            hash: Secrets.hash(Secrets.normalizeCode(code)), advisor: id, createdAt: time,
            expiresAt: time + ttlSeconds * 1000)
        return code
    }

    /// Revokes a device: its token gets 401 `revoked` from now on.
    public func revoke(_ device: String) async throws {
        guard let id = DeviceID(device), try await store.revoke(id, at: now()) else {
            throw KakehashiError.invalid("device", "no device '\(device)'; see kakehashi-server devices")
        }
    }

    public struct ProgramEntry: Codable, Sendable, Hashable {
        public let id: String
        public let name: String
        public let ministry: String
    }

    public struct AdvisorEntry: Codable, Sendable, Hashable {
        public let id: String
        public let name: String
        public let role: String
        public let program: String
        public let prefecture: String?
        public let contact: String?
        public let active: Bool
    }

    public func programList() async throws -> [ProgramEntry] {
        try await store.records(.program).filter { !$0.isDeleted }.map {
            ProgramEntry(
                id: $0.id, name: $0.value("name").displayText, ministry: $0.value("ministry").displayText)
        }
    }

    public func advisorList() async throws -> [AdvisorEntry] {
        try await store.records(.advisor).filter { !$0.isDeleted }.map {
            AdvisorEntry(
                id: $0.id, name: $0.value("name").displayText, role: $0.value("role").displayText,
                program: $0.value("program").displayText, prefecture: $0.value("prefecture").stringValue,
                contact: $0.value("contact").stringValue, active: $0.value("active") != .bool(false))
        }
    }

    /// The enrolled devices; a device of a deactivated advisor is not `active` (every request of
    /// it gets 401 `revoked`, as `Authenticator` decides).
    public func deviceList() async throws -> [DeviceRecord] {
        let records = try await store.records(.advisor)
        let advisors = Set(records.filter { AccessPolicy.Viewer(advisor: $0.id, state: $0).active }.map(\.id))
        return try await store.devices().map { device in
            var device = device
            if device.active, !advisors.contains(device.advisor) { device.status = "advisor-deactivated" }
            return device
        }
    }

    private func activeAdvisor(_ id: String, allowInactive: Bool) throws -> String {
        guard let canonical = RecordID.canonicalUUID(id) else {
            throw KakehashiError.invalid(
                "advisor", "'\(id)' is not an advisor id (a UUID); see kakehashi-server advisors")
        }
        return canonical
    }

    func write(_ changes: [Change]) async throws {
        let results = try await store.append(changes, viewer: nil, wallMillis: now(), onlyIfEmpty: false)
        if let refused = results.first(where: { $0.status == .rejected }) {
            throw KakehashiError(.internalFailure, "the change log refused an admin write: \(refused.reason ?? "")")
        }
    }

    /// One change per value (`set`, or `add` for set elements), stamped by this process's clock.
    func makeChanges(
        _ entity: Entity, _ id: String, _ values: [(String, FieldValue)], op: Change.Operation = .set,
        fresh: Bool = false
    )
        async throws -> [Change]
    {
        if maker == nil {
            let device = DeviceID("server-" + Secrets.randomHex(bytes: 8))!
            let highest = try await store.highestHLC()
            let start = highest.map { HLC(millis: $0.millis, counter: $0.counter, device: device) }
            maker = ChangeMaker(clock: HybridClock(device: device, last: start), author: WireProtocol.systemAuthor)
        }
        var state = fresh ? nil : try await store.record(entity, id)
        var changes: [Change] = []
        for (field, value) in values {
            let change = maker!.make(
                op, entity: entity, record: id, field: field, value: value, state: state, wallMillis: now())
            if state == nil { state = RecordState(entity: entity, id: id) }
            state?.apply(change)
            changes.append(try change.validated())
        }
        return changes
    }
}
