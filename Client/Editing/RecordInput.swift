import GRDB
import KakehashiShared

/// The values a person gave for a record, already parsed and checked: scalar fields and set
/// fields, each keyed by field name.
public struct RecordInput: Sendable {
    public var values: [String: String] = [:]
    public var sets: [String: [String]] = [:]

    public init(values: [String: String] = [:], sets: [String: [String]] = [:]) {
        self.values = values
        self.sets = sets
    }

    /// Reads `FIELD=VALUE` arguments (`case set ID stage=matching tags=知財,試作`); a set field's
    /// value is a comma-separated list that replaces the set.
    public static func assignments(_ arguments: [String], entity: Entity) throws(KakehashiError) -> RecordInput {
        var input = RecordInput()
        for argument in arguments {
            guard let equals = argument.firstIndex(of: "=") else {
                throw KakehashiError(
                    .usage, field: "assignment",
                    "'\(argument)' is not FIELD=VALUE; fields: \(entity.schema.fieldNames.joined(separator: ", "))")
            }
            let name = String(argument[..<equals])
            let value = String(argument[argument.index(after: equals)...])
            let spec = try entity.schema.field(name)
            if spec.isSet {
                input.sets[name] = value.split(separator: ",").map(String.init).filter { !$0.isEmpty }
            } else {
                input.values[name] = value
            }
        }
        return input
    }
}

/// Parses inputs against the schema and checks that referenced records exist on this laptop.
struct InputParser {
    let db: Database

    func parse(
        _ input: RecordInput, for entity: Entity
    ) throws -> (values: [String: FieldValue], sets: [String: [String]]) {
        let schema = entity.schema
        var values: [String: FieldValue] = [:]
        var sets: [String: [String]] = [:]
        for (name, text) in input.values.sorted(by: { $0.key < $1.key }) {
            let spec = try schema.field(name)
            if case .reference(let target) = spec.kind, !TextNormalization.normalize(text).isEmpty {
                values[name] = .string(try resolveReference(text, to: target, field: name))
            } else {
                values[name] = try spec.parse(text)
            }
        }
        for (name, elements) in input.sets.sorted(by: { $0.key < $1.key }) {
            let spec = try schema.field(name)
            var parsed: [String] = []
            for element in elements {
                if case .referenceSet(let target) = spec.kind {
                    parsed.append(try resolveReference(element, to: target, field: name))
                } else {
                    parsed.append(try spec.parseElement(element))
                }
            }
            sets[name] = Array(Set(parsed)).sorted()
        }
        return (values, sets)
    }

    /// The id of an existing, visible record: an id, a short id or unique prefix
    /// (`RecordResolver`), or for advisors also an exact name.
    func resolveReference(_ text: String, to entity: Entity, field: String) throws -> String {
        let trimmed = TextNormalization.normalize(text)
        if let id = try? entity.schema.validateID(trimmed, field: field) {
            if try exists(entity, id) { return id }
            throw KakehashiError.invalid(field, "no \(entity.rawValue) with id \(id) on this laptop")
        }
        if entity == .advisor {
            let matches = try String.fetchAll(
                db, sql: "SELECT id FROM advisors WHERE name = ? AND deleted = 0", arguments: [trimmed])
            if matches.isEmpty,
                let ref = try? RecordResolver.resolve(trimmed, among: [.advisor], field: field, in: db)
            {
                return ref.record
            }
            if matches.count == 1 { return matches[0] }
            if matches.count > 1 {
                throw KakehashiError.invalid(
                    field, "more than one advisor is called '\(trimmed)'; use the id (kakehashi advisor list)")
            }
            throw KakehashiError.invalid(
                field, "no advisor called or with id '\(trimmed)' (see kakehashi advisor list)")
        }
        if entity.schema.idFormat == .uuid {
            return try RecordResolver.resolve(trimmed, among: [entity], field: field, in: db).record
        }
        return try entity.schema.validateID(trimmed, field: field)
    }

    func exists(_ entity: Entity, _ id: String) throws -> Bool {
        try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM \(RecordTable.name(of: entity)) WHERE id = ? AND deleted = 0)",
            arguments: [id]) ?? false
    }
}
