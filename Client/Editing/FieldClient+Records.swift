import GRDB
import KakehashiShared

/// Creating, changing and deleting records on the laptop.
extension FieldClient {
    /// Creates a record from what a person typed and returns its new id.
    ///
    /// Fills in what the field client knows: a case's owner and program (this advisor's), an
    /// event's author and date (today in Japan), and the schema's defaults.
    /// - Throws: `KakehashiError` `.invalidData` naming the field; nothing is stored then.
    public func create(_ entity: Entity, _ input: RecordInput) throws -> String {
        try store.write { db in
            var session = try WriteSession(db: db, wallClock: wallClock())
            let id = try create(entity, input, in: &session)
            try session.commit()
            return id
        }
    }

    /// Writes a new record into an open session; the caller commits.
    private func create(_ entity: Entity, _ input: RecordInput, in session: inout WriteSession) throws -> String {
        var (values, sets) = try InputParser(db: session.db).parse(input, for: entity)
        try fillDefaults(entity, &values, session: &session)
        try entity.schema.validateComplete(values, sets: sets)
        if entity == .event, let caseID = values["case"]?.stringValue {
            try requireFullAccess(toCase: caseID, session: &session)
        }
        var generator = SystemRandomNumberGenerator()
        let ref = RecordRef(entity: entity, record: RecordID.uuidV7(unixMillis: wallClock(), using: &generator))
        for field in Self.creationOrder(entity) {
            if field.isSet {
                for element in sets[field.name] ?? [] {
                    try session.write(.add, ref, field: field.name, value: .string(element))
                }
            } else if let value = values[field.name], !value.isNull {
                try session.write(.set, ref, field: field.name, value: value)
            }
        }
        return ref.record
    }

    /// Schema order, except that a case's access-deciding fields come first (see
    /// `AccessPolicy.caseAccessFields`); an event's `case` is already its first field.
    static func creationOrder(_ entity: Entity) -> [FieldSpec] {
        let fields = entity.schema.fields
        guard entity == .case else { return fields }
        let first = AccessPolicy.caseAccessFields.compactMap { name in fields.first { $0.name == name } }
        return first + fields.filter { !AccessPolicy.caseAccessFields.contains($0.name) }
    }

    private func fillDefaults(
        _ entity: Entity, _ values: inout [String: FieldValue], session: inout WriteSession
    ) throws {
        let me = session.advisor
        switch entity {
        case .case:
            if values["owner"] == nil { values["owner"] = .string(me) }
            if values["program"] == nil,
                let program = try session.state(RecordRef(entity: .advisor, record: me))?.value("program"),
                !program.isNull
            {
                values["program"] = program
            }
        case .event:
            if values["author"] == nil { values["author"] = .string(me) }
            if values["date"] == nil { values["date"] = .string(try today()) }
        default:
            break
        }
        for field in entity.schema.fields where !field.isSet && values[field.name] == nil {
            if let value = field.defaultValue { values[field.name] = value }
        }
    }

    /// Changes fields of an existing record (`case set ID FIELD=VALUE…`). A set field given a
    /// list is replaced by exactly that list.
    public func update(_ entity: Entity, id: String, _ input: RecordInput) throws {
        try store.write { db in
            let (values, sets) = try InputParser(db: db).parse(input, for: entity)
            var session = try WriteSession(db: db, wallClock: wallClock())
            let ref = try existing(entity, id, session: &session)
            let current = try session.state(ref) ?? RecordState(entity: entity, id: ref.record)
            var merged: [String: FieldValue] = [:]
            var mergedSets: [String: [String]] = [:]
            for field in entity.schema.fields {
                if field.isSet {
                    mergedSets[field.name] = sets[field.name] ?? current.elements(field.name)
                } else {
                    merged[field.name] = values[field.name] ?? current.value(field.name)
                }
            }
            try entity.schema.validateComplete(merged, sets: mergedSets)
            for field in entity.schema.fields {
                if field.isSet, let elements = sets[field.name] {
                    try session.replaceSet(ref, field: field.name, with: elements)
                } else if let value = values[field.name], value != current.value(field.name) {
                    try session.write(.set, ref, field: field.name, value: value)
                }
            }
            try session.commit()
        }
    }

    /// Adds an element to a set field (`case share`), or removes it (`case unshare`).
    public func changeSet(_ entity: Entity, id: String, field: String, element: String, add: Bool) throws {
        try store.write { db in
            let spec = try entity.schema.field(field)
            let parsed = try InputParser(db: db).parse(RecordInput(sets: [field: [element]]), for: entity)
            guard spec.isSet, let value = parsed.sets[field]?.first else {
                throw KakehashiError.invalid(field, "is not a set field")
            }
            var session = try WriteSession(db: db, wallClock: wallClock())
            let ref = try existing(entity, id, session: &session)
            let present = try session.state(ref)?.elements(field).contains(value) ?? false
            if add == present { return }  // already as asked: no change to sync
            try session.write(add ? .add : .remove, ref, field: field, value: .string(value))
            try session.commit()
        }
    }

    /// Deletes a record (a tombstone that syncs; a concurrent edit elsewhere revives it).
    public func delete(_ entity: Entity, id: String) throws {
        try store.write { db in
            var session = try WriteSession(db: db, wallClock: wallClock())
            let ref = try existing(entity, id, session: &session)
            try session.write(.delete, ref, field: nil, value: .bool(true))
            try session.commit()
        }
    }

    /// Hands a case to an advisor of another program: adds them as a participant and records a
    /// `referral` event with the note, in one transaction. Returns the event's id.
    public func refer(caseID: String, to advisor: String, note: String) throws -> String {
        try store.write { db in
            let advisorID = try InputParser(db: db).resolveReference(advisor, to: .advisor, field: "advisor")
            var session = try WriteSession(db: db, wallClock: wallClock())
            let ref = try existing(.case, caseID, session: &session)
            let eventID = try create(
                .event,
                RecordInput(values: ["case": ref.record, "kind": "referral", "referred_to": advisorID, "body": note]),
                in: &session)
            if try session.state(ref)?.elements("participants").contains(advisorID) != true {
                try session.write(.add, ref, field: "participants", value: .string(advisorID))
            }
            try session.commit()
            return eventID
        }
    }

    /// The record, which must exist, not be deleted, and (for cases and events) be fully visible.
    func existing(_ entity: Entity, _ id: String, session: inout WriteSession) throws -> RecordRef {
        let canonical = try entity.schema.validateID(TextNormalization.normalize(id), field: "id")
        let ref = RecordRef(entity: entity, record: canonical)
        guard let state = try session.state(ref), !state.isDeleted else {
            throw KakehashiError.invalid("id", "no \(entity.rawValue) with id \(canonical) on this laptop")
        }
        if entity.schema.adminOnly {
            throw KakehashiError(
                .notAuthorized, field: "id", "\(entity.rawValue) records are kept by the administrators on the server")
        }
        if entity == .case { try requireFullAccess(toCase: canonical, session: &session) }
        if entity == .event, let caseID = state.value("case").stringValue {
            try requireFullAccess(toCase: caseID, session: &session)
        }
        return ref
    }

    func requireFullAccess(toCase caseID: String, session: inout WriteSession) throws {
        guard let caseState = try session.state(RecordRef(entity: .case, record: caseID)) else { return }
        let viewer = AccessPolicy.Viewer(
            advisor: session.advisor, state: try session.state(RecordRef(entity: .advisor, record: session.advisor)))
        let facts = AccessPolicy.CaseFacts(caseState)
        // A laptop that has not yet synced the directory knows nothing about itself: let the
        // server decide rather than refusing offline work.
        guard viewer.active else { return }
        if AccessPolicy.access(to: facts, for: viewer) != .full {
            throw KakehashiError(
                .notAuthorized, field: "id", "you see only the stub of case \(caseID); ask its owner to share it")
        }
    }
}
