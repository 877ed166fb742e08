/// The fields and rules of one entity.
public struct EntitySchema: Sendable, Hashable {
    /// How record ids of this entity are spelled.
    public enum IDFormat: Sendable, Hashable {
        /// A lowercase UUID (version 7 for new records).
        case uuid
        /// A short lowercase slug such as `business-production` (programs).
        case slug
    }

    /// A rule that spans more than one field.
    public enum Rule: Sendable, Hashable {
        /// `field` must have a value whenever `otherField` has the value `equals`.
        case requiredWhen(field: String, otherField: String, equals: String)
    }

    public let entity: Entity
    public let label: String
    public let idFormat: IDFormat
    /// Only administrators change records of this entity (the advisor directory, programs).
    public let adminOnly: Bool
    public let fields: [FieldSpec]
    public let rules: [Rule]

    init(
        _ entity: Entity, label: String, idFormat: IDFormat, adminOnly: Bool = false, fields: [FieldSpec],
        rules: [Rule] = []
    ) {
        self.entity = entity
        self.label = label
        self.idFormat = idFormat
        self.adminOnly = adminOnly
        self.fields = fields
        self.rules = rules
    }

    public var fieldNames: [String] { fields.map(\.name) }

    /// The field called `name`; the error lists this entity's fields when there is none.
    public func field(_ name: String) throws(KakehashiError) -> FieldSpec {
        guard let spec = fields.first(where: { $0.name == name }) else {
            throw .invalid(
                "field",
                "\(entity.rawValue) has no field '\(name)'; valid fields: \(fieldNames.joined(separator: ", "))",
                validValues: fieldNames
            )
        }
        return spec
    }

    /// The field called `name`, for code that names a field itself (reports, exports, access
    /// checks): a name this entity does not declare is a programming error, not bad input, and
    /// stops the program (`field(_:)` is for names people type).
    public func spec(_ name: String) -> FieldSpec {
        guard let spec = fields.first(where: { $0.name == name }) else {
            preconditionFailure("\(entity.rawValue) has no field '\(name)'")
        }
        return spec
    }

    /// Checks a record id's spelling and returns its canonical (lowercase) form.
    public func validateID(_ id: String, field: String = "id") throws(KakehashiError) -> String {
        switch idFormat {
        case .uuid:
            guard let canonical = RecordID.canonicalUUID(id) else {
                throw .invalid(field, "'\(id)' is not a \(entity.rawValue) id (a UUID such as 0192f1c4-…)")
            }
            return canonical
        case .slug:
            guard RecordID.isSlug(id) else {
                throw .invalid(
                    field,
                    "'\(id)' is not a valid \(entity.rawValue) id (2–40 of a–z, 0–9 and '-', starting with a letter)"
                )
            }
            return id
        }
    }

    /// Checks the whole set of values a new record starts with: required fields, cross-field
    /// rules, and that set fields carry arrays of elements.
    ///
    /// - Parameter values: scalar fields by name; set fields are passed in `sets`.
    public func validateComplete(_ values: [String: FieldValue], sets: [String: [String]] = [:]) throws(KakehashiError)
    {
        for spec in fields where spec.required {
            if spec.isSet {
                if sets[spec.name, default: []].isEmpty { throw .invalid(spec.name, "is required") }
            } else if values[spec.name, default: .null].isNull {
                throw .invalid(spec.name, "is required (\(spec.kind.expectation))")
            }
        }
        for rule in rules {
            switch rule {
            case .requiredWhen(let field, let otherField, let equals):
                if values[otherField] == .string(equals), values[field, default: .null].isNull {
                    throw .invalid(field, "is required when \(otherField) is \(equals)")
                }
            }
        }
    }
}
