import Foundation

/// A closed set of values for an enum field, each with its Japanese label.
///
/// Input accepts either the canonical value (`sme`) or its label (`中小企業`); storage and the
/// wire always carry the canonical value.
public struct EnumDomain: Sendable, Hashable {
    public struct Member: Sendable, Hashable {
        public let value: String
        public let label: String
    }

    public let name: String
    public let members: [Member]

    public init(_ name: String, _ members: KeyValuePairs<String, String>) {
        self.name = name
        self.members = members.map { Member(value: $0.key, label: $0.value) }
    }

    /// The domain of an enum's cases, in the order they are declared.
    public init<Value: DomainValue>(_ name: String, _ type: Value.Type) {
        self.name = name
        self.members = Value.allCases.map { Member(value: $0.rawValue, label: $0.label) }
    }

    public var values: [String] { members.map(\.value) }

    public func contains(_ value: String) -> Bool { members.contains { $0.value == value } }

    public func label(of value: String) -> String? { members.first { $0.value == value }?.label }

    /// The canonical value for a value or a Japanese label, or nil when it is neither. Values
    /// are matched in any case and width (`ＴＯＫＹＯ`), and a label ending in 都, 府 or 県 also
    /// without it, as people write prefectures (東京 → 東京都, 大阪 → 大阪府, 神奈川 → 神奈川県).
    public func canonical(_ input: String) -> String? {
        if let exact = members.first(where: { $0.value == input || $0.label == input }) { return exact.value }
        let folded = input.precomposedStringWithCompatibilityMapping.precomposedStringWithCanonicalMapping
        let lower = folded.lowercased()
        if let member = members.first(where: { $0.value == lower || $0.label == folded }) { return member.value }
        return members.first { member in
            guard let last = member.label.last, "都府県".contains(last), folded.count >= 2 else { return false }
            return String(member.label.dropLast()) == folded
        }?.value
    }

    /// The member closest to `input` by edit distance over values and labels, when it is close
    /// enough to be a likely typo (`kanagwa` → kanagawa, 神奈河県 → 神奈川県).
    public func closest(to input: String) -> Member? {
        let lower = input.lowercased()
        var best: (member: Member, distance: Int)?
        for member in members {
            for candidate in [member.value, member.label] {
                let distance = Self.editDistance(Array(lower), Array(candidate.lowercased()))
                let allowed = max(1, candidate.count / 3)
                if distance <= allowed, distance < best?.distance ?? Int.max { best = (member, distance) }
            }
        }
        return best?.member
    }

    /// Levenshtein distance between two character sequences.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, y) in b.enumerated() {
                current[j + 1] = Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// What an error says about an unknown value: the closest member when there is one, and
    /// every member only when there are few (not all 47 prefectures).
    public func unknownValueMessage(_ input: String) -> String {
        var message = "unknown value '\(input)'"
        if let member = closest(to: input) { message += "; did you mean \(member.value) (\(member.label))?" }
        if members.count <= 12 {
            message += " valid values: \(listing)"
        } else {
            message +=
                " (\(members.count) values, e.g. \(members.prefix(3).map { "\($0.value) (\($0.label))" }.joined(separator: ", ")))"
        }
        return message
    }

    /// `sme (中小企業), large-company (大企業), …` for error messages and help text.
    public var listing: String {
        members.map { "\($0.value) (\($0.label))" }.joined(separator: ", ")
    }
}
