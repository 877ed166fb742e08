/// Who may see and change what (Docs/design.md §6), as pure functions both the server (which
/// enforces them on every pull and push) and the client (which shows stubs as stubs) call.
public enum AccessPolicy {
    /// How much of a case (and its events) a viewer may see.
    public enum Access: Int, Sendable, Hashable, Comparable, Codable {
        /// Nothing: the case does not exist for this viewer.
        case none = 0
        /// The stub: the case's fields marked `exposure: .stub` (organization, program, owner,
        /// stage, kind, level, participants); never title, summary or events.
        case stub = 1
        /// Everything.
        case full = 2

        public static func < (lhs: Access, rhs: Access) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// The advisor on whose behalf a device reads or writes.
    public struct Viewer: Sendable, Hashable {
        public let advisor: String
        public let program: String?
        public let role: String?
        public let active: Bool

        public init(advisor: String, program: String?, role: String?, active: Bool) {
            self.advisor = advisor
            self.program = program
            self.role = role
            self.active = active
        }

        /// Reads a viewer from the advisor directory record.
        public init(advisor: String, state: RecordState?) {
            self.init(
                advisor: advisor, program: state?.value("program").stringValue, role: state?.value("role").stringValue,
                active: state.map { $0.value("active") != .bool(false) && !$0.isDeleted } ?? false)
        }
    }

    /// The access-deciding fields of a case.
    public struct CaseFacts: Sendable, Hashable {
        public let level: String
        public let owner: String?
        public let participants: Set<String>
        public let program: String?

        public init(level: String, owner: String?, participants: Set<String>, program: String?) {
            self.level = level
            self.owner = owner
            self.participants = participants
            self.program = program
        }

        /// Reads the facts from a merged case; an unset level is `unsetLevel`.
        public init(_ state: RecordState) {
            self.init(
                level: state.value("level").stringValue ?? Self.unsetLevel, owner: state.value("owner").stringValue,
                participants: Set(state.elements("participants")), program: state.value("program").stringValue)
        }

        /// The level of a case that has none: the `level` field's default in `Schema`
        /// (`confidential`).
        static let unsetLevel = Entity.case.schema.spec("level").textDefault
    }

    /// The fields that decide who may see and change a case. A new case writes these first, so
    /// that however its changes are split into push batches, the server already knows the
    /// case's owner when the rest arrives.
    public static let caseAccessFields = ["owner", "program", "level", "participants"]

    /// The fields of a case that belong to its stub.
    public static let caseStubFields: Set<String> = Set(
        Entity.case.schema.fields.filter { $0.exposure == .stub }.map(\.name))

    /// How much of a case `viewer` may see.
    public static func access(to facts: CaseFacts, for viewer: Viewer) -> Access {
        guard viewer.active else { return .none }
        let involved = facts.owner == viewer.advisor || facts.participants.contains(viewer.advisor)
        // A level this build does not know (from a newer release) is treated as confidential.
        switch ConfidentialityLevel(rawValue: facts.level) ?? .confidential {
        case .open:
            return .full
        case .strict, .secret:
            return involved ? .full : .none
        case .confidential:
            if involved { return .full }
            if let program = facts.program, program == viewer.program { return .full }
            return .stub
        }
    }

    /// Whether a change to a case field may travel to a viewer with the given access.
    public static func mayReceive(caseField field: String?, with access: Access) -> Bool {
        switch access {
        case .full: true
        case .stub: field.map(caseStubFields.contains) ?? true
        case .none: false
        }
    }

    /// What an advisor may change in a case (Docs/security.md, "Who changes what").
    public enum WriteRight: String, Sendable, Hashable, CaseIterable {
        /// Content fields, stage, and the case's events.
        case content
        /// The access-deciding fields (`level`, `program`, `owner`, `participants`: share and
        /// unshare) and deleting the case.
        case control
        /// Handing the case to an advisor of another program: a `referral` event, and adding the
        /// advisor it names as a participant.
        case refer
    }

    /// The rights `viewer` holds on a case: the owner holds all; a participant content and refer;
    /// an advisor of the case's program who is neither, content (on `open` and `confidential`
    /// cases); everyone else, even on an `open` case they can read, none.
    public static func rights(to facts: CaseFacts, for viewer: Viewer) -> Set<WriteRight> {
        guard viewer.active else { return [] }
        if let owner = facts.owner, owner == viewer.advisor { return Set(WriteRight.allCases) }
        if facts.participants.contains(viewer.advisor) { return [.content, .refer] }
        let sameProgram = facts.program != nil && facts.program == viewer.program
        if sameProgram && access(to: facts, for: viewer) == .full { return [.content] }
        return []
    }

    /// The right a change to a case needs (an element added to `participants` may instead be
    /// allowed by `refer`, when a referral names that advisor: the server checks that).
    public static func requiredRight(forCaseChange change: Change) -> WriteRight {
        if change.op == .delete { return .control }
        return change.field.map(caseAccessFields.contains) == true ? .control : .content
    }

    /// The right an event change needs on its case: `refer` for what makes a referral (the kind
    /// `referral`, the advisor referred to), `content` for everything else.
    public static func requiredRight(forEventChange change: Change) -> WriteRight {
        switch change.field {
        case "referred_to": .refer
        case "kind" where change.value.stringValue == "referral": .refer
        default: .content
        }
    }

    /// Why `viewer`, who can see the case, may not make a change that needs `right`; nil when
    /// they may. The reason names only the case, which the viewer can see.
    public static func refusal(
        _ right: WriteRight, on caseID: String, facts: CaseFacts, for viewer: Viewer
    )
        -> String?
    {
        guard viewer.active else { return "advisor \(viewer.advisor) is deactivated" }
        let held = rights(to: facts, for: viewer)
        if held.contains(right) { return nil }
        if held.isEmpty {
            return "you may read case \(caseID) but not change it: only its owner, its participants and "
                + "advisors of its program write to it"
        }
        switch right {
        case .control:
            return "only the owner of case \(caseID) may change its level, program, owner or participants, "
                + "or delete it"
        case .refer:
            return "only the owner or a participant of case \(caseID) may refer it to another program"
        case .content:
            return "you may not change case \(caseID)"
        }
    }

    /// The one refusal for a record that exists but that the advisor may not see, whatever its
    /// entity, level or history, and for a referenced record that does not exist: answers never
    /// tell an unseen record from a missing one.
    public static func notVisible(_ id: String) -> String {
        "no record \(id) that you may see"
    }
}
