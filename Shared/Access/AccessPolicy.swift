/// Who may see and change what (DESIGN.md section 6), as pure functions both the server (which
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

        /// Reads the facts from a merged case; an unset level is the default, `confidential`.
        public init(_ state: RecordState) {
            self.init(
                level: state.value("level").stringValue ?? "confidential", owner: state.value("owner").stringValue,
                participants: Set(state.elements("participants")), program: state.value("program").stringValue)
        }
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
        switch facts.level {
        case "open":
            return .full
        case "strict", "secret":
            return involved ? .full : .none
        default:  // confidential, and anything unknown is treated as confidential
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

    /// Whether `viewer` may write `change`, given the record's current state.
    ///
    /// - Parameters:
    ///   - caseFacts: for a case, its current facts (nil for a new case); for an event, the facts
    ///     of the case it belongs to (nil when that case is unknown).
    /// - Returns: nil when allowed, else the reason for the rejection.
    public static func writeRefusal(
        _ change: Change, by viewer: Viewer, recordExists: Bool, caseFacts: CaseFacts?
    ) -> String? {
        guard viewer.active else { return "advisor \(viewer.advisor) is deactivated" }
        if change.entity.schema.adminOnly {
            return "\(change.entity.rawValue) records are kept by the Cabinet Office administrators"
        }
        switch change.entity {
        case .case:
            guard recordExists, let facts = caseFacts else { return nil }  // creating a new case
            return access(to: facts, for: viewer) == .full ? nil : "no full access to case \(change.record)"
        case .event:
            guard let facts = caseFacts else {
                return recordExists ? nil : "the event's case is unknown or not visible"
            }
            return access(to: facts, for: viewer) == .full ? nil : "no full access to the event's case"
        default:
            return nil
        }
    }
}
