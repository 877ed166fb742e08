/// The kinds of record Kakehashi keeps (Docs/design.md §4).
public enum Entity: String, CaseIterable, Codable, Sendable, Hashable, Comparable {
    case advisor
    case program
    case organization
    case `case`
    case event
    case seed
    case need

    public static func < (lhs: Entity, rhs: Entity) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Parses a user-supplied entity name, listing the valid names when it is unknown.
    public static func parse(_ text: String, field: String = "entity") throws(KakehashiError) -> Entity {
        guard let entity = Entity(rawValue: text) else {
            throw .invalid(
                field,
                "unknown entity '\(text)'; valid values: \(allCases.map(\.rawValue).joined(separator: ", "))",
                validValues: allCases.map(\.rawValue)
            )
        }
        return entity
    }

    /// The schema that describes this entity's fields.
    public var schema: EntitySchema { Schema.entity(self) }
}
