import GRDB
import KakehashiShared

/// Reading organizations as companies: the records of one company (same 法人番号, or joined by
/// `org merge`) show as one organization, its representative (`OrganizationIdentity`).
extension FieldClient {
    /// One company: the record that represents it and every record that stands for it.
    public struct Company: Sendable {
        public let record: RecordView
        /// Every other record of the company (merged or sharing its 法人番号), deleted ones excluded.
        public let others: [RecordView]
        /// Every id that stands for the company, the representative's and deleted records' too.
        public let ids: [String]
    }

    /// The representative of every organization record, by id (`OrganizationIdentity`).
    static func organizationRepresentatives(in db: Database) throws -> [String: String] {
        let members = try Row.fetchAll(
            db, sql: "SELECT id, corporate_number, merged_into, deleted FROM organizations"
        ).map { row in
            OrganizationIdentity.Member(
                id: row["id"], corporateNumber: row["corporate_number"], mergedInto: row["merged_into"],
                deleted: (row["deleted"] as Int64? ?? 0) != 0)
        }
        return OrganizationIdentity.representatives(members)
    }

    /// Every company once: the representative records, newest first.
    public func organizations() throws -> [RecordView] {
        try store.read { db in
            let representatives = Set(try Self.organizationRepresentatives(in: db).values)
            return try Row.fetchAll(db, sql: "SELECT * FROM organizations WHERE deleted = 0 ORDER BY id DESC")
                .map { RecordView(entity: .organization, row: $0) }
                .filter { representatives.contains($0.id) }
        }
    }

    /// The company an id or a 法人番号 (13 digits, full-width or with hyphens too) stands for.
    /// - Throws: `.invalidData` naming `field` when no live organization answers to it.
    public func company(_ text: String, field: String = "id") throws -> Company {
        let folded = TextNormalization.foldWidth(text).replacingOccurrences(of: "-", with: "")
        let id: String
        if folded.count == 13, folded.allSatisfy({ $0.isASCII && $0.isNumber }) {
            if let problem = CorporateNumber.problem(with: folded) { throw KakehashiError.invalid(field, problem) }
            guard
                let found = try store.read({ db in
                    try String.fetchOne(
                        db, sql: "SELECT id FROM organizations WHERE corporate_number = ? ORDER BY deleted, id LIMIT 1",
                        arguments: [folded])
                })
            else { throw KakehashiError.invalid(field, "法人番号 \(folded) の組織はこの端末にありません") }
            id = found
        } else {
            id = try store.read { db in
                try RecordResolver.resolve(text, among: [.organization], field: field, in: db).record
            }
        }
        return try store.read { db in
            let representatives = try Self.organizationRepresentatives(in: db)
            guard let representative = representatives[id] else {
                throw KakehashiError.invalid(field, "ID \(id) の組織はこの端末にありません")
            }
            let ids = representatives.filter { $0.value == representative }.map(\.key).sorted()
            let rows = try Row.fetchAll(
                db,
                sql:
                    "SELECT * FROM organizations WHERE deleted = 0 AND id IN (SELECT value FROM json_each(?)) ORDER BY id",
                arguments: [JSONText.array(ids)]
            ).map { RecordView(entity: .organization, row: $0) }
            guard let record = rows.first(where: { $0.id == representative }) else {
                throw KakehashiError.invalid(field, "ID \(id) の組織はこの端末にありません")
            }
            return Company(record: record, others: rows.filter { $0.id != representative }, ids: ids)
        }
    }

    /// Live companies whose name is the same as `name` once legal forms, widths, case and spaces
    /// are set aside (`OrganizationIdentity.nameKey`).
    func similarlyNamed(_ name: String, in db: Database) throws -> [RecordView] {
        let key = OrganizationIdentity.nameKey(name)
        guard !key.isEmpty else { return [] }
        let representatives = try Self.organizationRepresentatives(in: db)
        let live = try Row.fetchAll(db, sql: "SELECT * FROM organizations WHERE deleted = 0 ORDER BY id")
            .map { RecordView(entity: .organization, row: $0) }
        let matched = Set(
            live.filter { OrganizationIdentity.nameKey($0.text("name")) == key }.compactMap { representatives[$0.id] })
        return live.filter { matched.contains($0.id) }
    }
}
