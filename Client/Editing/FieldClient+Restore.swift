import GRDB
import KakehashiShared

/// Undoing a delete: a record removed by mistake comes back, through the same change path (a
/// `delete` change carrying `false`), with the same rights as deleting it.
extension FieldClient {
    /// Restores a deleted record and returns its id. Rights as for `delete`: a case's owner; an
    /// event's case's content rights (a referral: its author or the case's owner); anyone for
    /// organizations, seeds and needs.
    /// - Throws: `.invalidData` naming `id` when the record is not deleted or not on this laptop.
    @discardableResult
    public func restore(_ entity: Entity, id: String) throws -> String {
        try store.write { db in
            var session = try WriteSession(db: db, wallClock: wallClock())
            let canonical = try RecordResolver.resolve(
                id, among: [entity], field: "id", includeDeleted: true, in: db
            ).record
            let ref = RecordRef(entity: entity, record: canonical)
            guard let state = try session.state(ref) else {
                throw KakehashiError.invalid("id", "ID \(canonical) の\(entity.schema.label)はこの端末にありません")
            }
            guard state.isDeleted else {
                throw KakehashiError.invalid("id", "\(entity.schema.label) \(canonical) は削除されていません")
            }
            if entity.schema.adminOnly {
                throw KakehashiError(
                    .notAuthorized, field: "id",
                    "\(entity.rawValue) records are kept by the administrators on the server")
            }
            switch entity {
            case .case:
                try requireRight(.control, onCase: canonical, field: "id", session: &session)
            case .event:
                if let caseID = state.value("case").stringValue {
                    try requireRight(.content, onCase: caseID, field: "id", session: &session)
                    try requireReferralAuthorOrOwner(state, inCase: caseID, session: &session)
                }
            default:
                break
            }
            try session.write(.delete, ref, field: nil, value: .bool(false))
            try session.commit()
            return canonical
        }
    }
}
