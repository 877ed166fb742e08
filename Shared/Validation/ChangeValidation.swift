/// Checks a change that arrived from elsewhere before any replica merges it.
extension Change {
    /// Returns the change with its value in canonical form, or throws naming what is wrong.
    ///
    /// Checks the record id's spelling, that the field exists on the entity and that the
    /// operation fits its kind (`set` for scalars, `add`/`remove` for sets, `delete` with no
    /// field), the value, that every `prev` timestamp is older than the change itself, and the
    /// author id. Whether the author may make the change is the server's access check, not this.
    /// - Throws: `KakehashiError` with code `.invalidData`.
    public func validated() throws(KakehashiError) -> Change {
        let schema = entity.schema
        let recordID = try schema.validateID(record, field: "record")
        guard RecordID.canonicalUUID(author) == author else {
            throw .invalid("author", "'\(author)' is not an advisor id (a lowercase UUID)")
        }
        guard hlc.device == id.device else {
            throw .invalid("hlc", "device \(hlc.device) does not match the change id's device \(id.device)")
        }
        let maxPrev = op == .delete ? RecordLimits.maxDeletePrev : RecordLimits.maxPrev
        guard prev.count <= maxPrev else {
            throw .invalid("prev", "lists \(prev.count) timestamps; a \(op.rawValue) lists at most \(maxPrev)")
        }
        if let newer = prev.first(where: { $0 >= hlc }) {
            throw .invalid("prev", "\(newer) is not older than the change's own timestamp \(hlc)")
        }
        let canonical: FieldValue
        switch op {
        case .delete:
            guard field == nil else { throw .invalid("field", "a delete names no field") }
            guard case .bool = value else {
                throw .invalid("value", "a delete carries true (delete) or false (restore)")
            }
            canonical = value
        case .set, .add, .remove:
            guard let field else { throw .invalid("field", "a \(op.rawValue) must name a field") }
            let spec = try schema.field(field)
            if spec.isSet != (op != .set) {
                throw .invalid(
                    field,
                    spec.isSet
                        ? "is a set field; change it with add or remove"
                        : "is not a set field; change it with set")
            }
            canonical = try spec.validate(value)
        }
        return Change(
            id: id, entity: entity, record: recordID, field: field, op: op, value: canonical, hlc: hlc, prev: prev,
            author: author)
    }
}
