import GRDB
import KakehashiShared

/// One company is one organization: adding a known company answers with it, and `org merge`
/// joins two records of one company by hand (`OrganizationIdentity`).
extension FieldClient {
    /// What `org add` did.
    public struct OrganizationAdded: Sendable {
        /// The organization's id: the new record's, or the existing company's.
        public let id: String
        /// The company already on this laptop with the 法人番号 given; nothing was written.
        public let existing: RecordView?
        /// Other companies whose name is the same once legal forms, widths and spaces are set aside.
        public let similar: [RecordView]
    }

    /// Adds an organization, unless one with the same 法人番号 is already on this laptop: then
    /// nothing is written and the existing company is returned. A new organization with a
    /// 法人番号 gets the id derived from it, so a laptop that adds the same company offline
    /// creates the same record.
    public func addOrganization(_ input: RecordInput) throws -> OrganizationAdded {
        try store.write { db in
            let numberSpec = try Entity.organization.schema.field("corporate_number")
            let number = try input.values["corporate_number"].map { try numberSpec.parse($0) }?.stringValue
            if let number,
                let found = try String.fetchOne(
                    db,
                    sql: "SELECT id FROM organizations WHERE corporate_number = ? AND deleted = 0 ORDER BY id LIMIT 1",
                    arguments: [number]),
                let representative = try Self.organizationRepresentatives(in: db)[found],
                let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM organizations WHERE id = ?", arguments: [representative])
            {
                return OrganizationAdded(
                    id: representative, existing: RecordView(entity: .organization, row: row), similar: [])
            }
            // A company with another 法人番号 is another company, however alike the names.
            let similar = try (input.values["name"].map { try similarlyNamed($0, in: db) } ?? []).filter { other in
                number == nil || other.values["corporate_number"]?.stringValue.map { $0 == number } ?? true
            }
            var session = try WriteSession(db: db, wallClock: wallClock())
            let id = try create(.organization, input, in: &session)
            try session.commit()
            return OrganizationAdded(id: id, existing: nil, similar: similar.filter { $0.id != id })
        }
    }

    /// What `org merge` did.
    public struct OrganizationsMerged: Sendable {
        /// The company both records now stand for.
        public let id: String
        /// False when they already were one company: nothing was written.
        public let merged: Bool
        /// Fields the kept organization lacked and took from the other.
        public let filled: [String]
    }

    /// Joins the company `duplicate` stands for into the one `keep` stands for: every record of
    /// the duplicate's company that is not merged yet gets `merged_into` = `keep`, and fields the
    /// kept company lacks (prefecture, 法人番号, SME type, notes) are taken from the duplicate.
    /// Cases stay as they are: a case linked to either record is the company's case.
    /// - Throws: `.invalidData` when the two have different 法人番号 (two companies).
    public func mergeOrganizations(keep: String, duplicate: String) throws -> OrganizationsMerged {
        let kept = try company(keep, field: "keep")
        let other = try company(duplicate, field: "duplicate")
        if kept.record.id == other.record.id {
            return OrganizationsMerged(id: kept.record.id, merged: false, filled: [])
        }
        let keptNumbers = Set(([kept.record] + kept.others).compactMap { $0.values["corporate_number"]?.stringValue })
        let otherNumbers = Set(
            ([other.record] + other.others).compactMap { $0.values["corporate_number"]?.stringValue })
        if let mine = keptNumbers.sorted().first, let theirs = otherNumbers.sorted().first, mine != theirs {
            throw KakehashiError.invalid(
                "duplicate",
                "法人番号が異なる組織（\(mine)、\(theirs)）は別の会社なので統合できません")
        }
        return try store.write { db in
            var session = try WriteSession(db: db, wallClock: wallClock())
            let target = RecordRef(entity: .organization, record: kept.record.id)
            var filled: [String] = []
            for field in ["prefecture", "corporate_number", "sme_type", "notes"] {
                // The number may be held by any record of the duplicate's company.
                let value =
                    field == "corporate_number"
                    ? otherNumbers.sorted().first.map(FieldValue.string) ?? .null : other.record.values[field] ?? .null
                if kept.record.values[field]?.isNull ?? true, !value.isNull {
                    try session.write(.set, target, field: field, value: value)
                    filled.append(field)
                }
            }
            for record in [other.record] + other.others where record.values["merged_into"]?.isNull ?? true {
                try session.write(
                    .set, RecordRef(entity: .organization, record: record.id), field: "merged_into",
                    value: .string(kept.record.id))
            }
            try session.commit()
            return OrganizationsMerged(id: kept.record.id, merged: true, filled: filled)
        }
    }
}
