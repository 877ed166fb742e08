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
    func create(_ entity: Entity, _ input: RecordInput, in session: inout WriteSession) throws -> String {
        var (values, sets) = try InputParser(db: session.db).parse(input, for: entity)
        try fillDefaults(entity, &values, session: &session)
        try entity.schema.validateComplete(values, sets: sets)
        try checkPlausible(entity, values, session: session)
        if entity == .case { try checkOwnProgram(values, session: &session) }
        if entity == .event, let caseID = values["case"]?.stringValue {
            let right: AccessPolicy.WriteRight = values["kind"]?.stringValue == "referral" ? .refer : .content
            try requireRight(right, onCase: caseID, field: "case", session: &session)
            try checkCredit(values, session: &session)
        }
        var generator = SystemRandomNumberGenerator()
        var id = RecordID.uuidV7(unixMillis: wallClock(), using: &generator)
        if entity == .organization, let number = values["corporate_number"]?.stringValue {
            // The same company gets the same id on every laptop (OrganizationIdentity), unless
            // that record's number was corrected since: then it is another company's record.
            let derived = OrganizationIdentity.recordID(corporateNumber: number)
            let held = try session.state(RecordRef(entity: .organization, record: derived))
            if held == nil || held?.value("corporate_number").stringValue == number { id = derived }
        }
        let ref = RecordRef(entity: entity, record: id)
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
            try requireRights(toChange: Set(values.keys).union(sets.keys), of: ref, current, session: &session)
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
            let changed = values.filter { $0.value != current.value($0.key) }
            try checkPlausible(entity, changed, session: session)
            if entity == .event, let target = changed["case"]?.stringValue {
                try requireMayMove(current, to: target, session: &session)
            }
            if entity == .organization, let target = changed["merged_into"]?.stringValue {
                try checkMerge(ref.record, into: target, number: merged["corporate_number"]?.stringValue, db: db)
            }
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
            let current = try session.state(ref) ?? RecordState(entity: entity, id: ref.record)
            try requireRights(toChange: [field], of: ref, current, session: &session)
            let present = current.elements(field).contains(value)
            if add, !present, current.elements(field).count >= RecordLimits.maxSetElements {
                throw KakehashiError.invalid(field, "holds at most \(RecordLimits.maxSetElements) elements")
            }
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
            if entity == .case {
                try requireRight(.control, onCase: ref.record, field: "id", session: &session)
            } else if entity == .event, let state = try session.state(ref),
                let caseID = state.value("case").stringValue
            {
                try requireRight(.content, onCase: caseID, field: "id", session: &session)
                try requireReferralAuthorOrOwner(state, inCase: caseID, session: &session)
            }
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
            try requireRight(.refer, onCase: ref.record, field: "id", session: &session)
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
        let canonical = try RecordResolver.resolve(id, among: [entity], field: "id", in: session.db).record
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

    /// The viewer this laptop writes as, from its synced directory record (inactive when the
    /// directory has not been synced yet).
    func viewer(_ session: inout WriteSession) throws -> AccessPolicy.Viewer {
        AccessPolicy.Viewer(
            advisor: session.advisor, state: try session.state(RecordRef(entity: .advisor, record: session.advisor)))
    }

    func requireFullAccess(toCase caseID: String, session: inout WriteSession) throws {
        guard let caseState = try session.state(RecordRef(entity: .case, record: caseID)) else { return }
        let viewer = try viewer(&session)
        // A laptop that has not yet synced the directory knows nothing about itself: let the
        // server decide rather than refusing offline work.
        guard viewer.active else { return }
        if AccessPolicy.access(to: AccessPolicy.CaseFacts(caseState), for: viewer) != .full {
            throw KakehashiError(
                .notAuthorized, field: "id", "you see only the stub of case \(caseID); ask its owner to share it")
        }
    }

    /// Refuses, before anything is written, what the server would refuse: the same rule
    /// (`AccessPolicy.rights`) on the laptop's copy of the case.
    func requireRight(
        _ right: AccessPolicy.WriteRight, onCase caseID: String, field: String, session: inout WriteSession
    ) throws {
        try requireFullAccess(toCase: caseID, session: &session)
        guard let caseState = try session.state(RecordRef(entity: .case, record: caseID)) else { return }
        let viewer = try viewer(&session)
        guard viewer.active else { return }
        if let reason = AccessPolicy.refusal(right, on: caseID, facts: AccessPolicy.CaseFacts(caseState), for: viewer) {
            throw KakehashiError(.notAuthorized, field: field, reason)
        }
    }

    /// The rights that changing `fields` of an existing record needs: a case's access fields
    /// need control; an event's credit fields cannot be changed at all.
    private func requireRights(
        toChange fields: Set<String>, of ref: RecordRef, _ current: RecordState, session: inout WriteSession
    ) throws {
        switch ref.entity {
        case .case:
            let control = fields.sorted().first { AccessPolicy.caseAccessFields.contains($0) }
            try requireRight(
                control == nil ? .content : .control, onCase: ref.record, field: control ?? "id", session: &session)
        case .event:
            if let credit = fields.sorted().first(where: { $0 == "author" || $0 == "referred_to" }) {
                throw KakehashiError(
                    .notAuthorized, field: credit,
                    "an event's author and the advisor a referral names cannot be changed; record a new event instead")
            }
            if let caseID = current.value("case").stringValue {
                try requireRight(.content, onCase: caseID, field: "id", session: &session)
                if fields.contains("kind") || fields.contains("date") {
                    try requireReferralAuthorOrOwner(current, inCase: caseID, session: &session)
                }
            }
        default:
            break
        }
    }

    /// An event is credited to the advisor who writes it; a referral names an active advisor of
    /// another program.
    private func checkCredit(_ values: [String: FieldValue], session: inout WriteSession) throws {
        if let author = values["author"]?.stringValue, author != session.advisor {
            throw KakehashiError(
                .notAuthorized, field: "author",
                "an event is recorded in your own name; author cannot be another advisor")
        }
        guard let advisor = values["referred_to"]?.stringValue else { return }
        let referred = AccessPolicy.Viewer(
            advisor: advisor, state: try session.state(RecordRef(entity: .advisor, record: advisor)))
        guard referred.active else {
            throw KakehashiError.invalid(
                "referred_to", "\(advisor) is not an active advisor; see kakehashi advisor list")
        }
        let me = try viewer(&session)
        if me.active, let program = referred.program, program == me.program {
            let name = try session.state(RecordRef(entity: .advisor, record: advisor))?.value("name").stringValue
            throw KakehashiError.invalid(
                "referred_to",
                "a referral hands a case to another program; \(name ?? advisor) is in your own program. "
                    + "同じ事業の担当者と一緒に進めるには共有してください: kakehashi case share "
                    + "\(values["case"].map { ShortID.of($0.displayText) } ?? "CASE") \(ShortID.of(advisor))")
        }
    }
}
