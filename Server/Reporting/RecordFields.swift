import KakehashiShared

/// A merged record read field by field through its entity's `Schema`: a field that holds no
/// value (never set, or cleared) reads as its `FieldSpec.defaultValue`, and every field named
/// must be one the schema declares, so a misspelt name stops the program at once instead of
/// reading as empty.
struct RecordFields: Sendable {
    private let state: RecordState
    private let schema: EntitySchema

    init(_ state: RecordState) {
        self.state = state
        schema = state.entity.schema
    }

    /// A field whose value is a string (text, an enum value, a reference, a date), or its default.
    func text(_ field: String) -> String? {
        let spec = schema.spec(field)
        return state.value(spec.name).stringValue ?? spec.defaultValue?.stringValue
    }

    /// A string field that has a default in `Schema` (a case's `stage` and `level`): its value,
    /// or that default.
    func defaultedText(_ field: String) -> String {
        let spec = schema.spec(field)
        return state.value(spec.name).stringValue ?? spec.textDefault
    }

    /// A boolean field, or its default; false when it has none.
    func flag(_ field: String) -> Bool {
        let spec = schema.spec(field)
        return state.value(spec.name).boolValue ?? spec.defaultValue?.boolValue ?? false
    }

    /// An integer field (a whole number, an amount in yen), or its default.
    func integer(_ field: String) -> Int64? {
        let spec = schema.spec(field)
        return state.value(spec.name).integerValue ?? spec.defaultValue?.integerValue
    }

    /// The elements of a set field, sorted.
    func elements(_ field: String) -> [String] {
        state.elements(schema.spec(field).name)
    }

    /// The write that set a scalar field's current value; nil when it was never set.
    func write(_ field: String) -> Write? {
        state.winner(RegisterKey(field: schema.spec(field).name, element: nil))
    }
}

extension RecordState {
    /// This record's fields, read through its entity's schema.
    var fields: RecordFields { RecordFields(self) }
}
