import GRDB
import KakehashiShared

/// Reading what the laptop holds: lists, single records, search and matching. All offline.
extension FieldClient {
    /// Filters for `case list` and `event list`.
    public struct ListFilter: Sendable {
        public var stage: String?
        public var organization: String?
        public var mine = false
        public var caseID: String?

        public init(stage: String? = nil, organization: String? = nil, mine: Bool = false, caseID: String? = nil) {
            self.stage = stage
            self.organization = organization
            self.mine = mine
            self.caseID = caseID
        }
    }

    /// The live records of an entity that match `filter`, newest first.
    public func list(_ entity: Entity, filter: ListFilter = ListFilter(), limit: Int? = nil) throws -> [RecordView] {
        try store.read { db in
            var conditions = ["deleted = 0"]
            var arguments: [any DatabaseValueConvertible] = []
            if let stage = filter.stage {
                let value = try Entity.case.schema.field("stage").parse(stage)
                guard !value.isNull else {
                    throw KakehashiError.invalid("stage", "is empty; valid values: \(Domains.caseStage.listing)")
                }
                conditions.append("stage = ?")
                arguments.append(value.displayText)
            }
            if let organization = filter.organization {
                // Any record of the company counts (OrganizationIdentity).
                let id = try RecordResolver.resolve(organization, among: [.organization], field: "org", in: db).record
                let representatives = try Self.organizationRepresentatives(in: db)
                let company = representatives[id].map { rep in representatives.filter { $0.value == rep }.map(\.key) }
                conditions.append(
                    "EXISTS (SELECT 1 FROM json_each(organizations) WHERE value IN (SELECT value FROM json_each(?)))")
                arguments.append(JSONText.array((company ?? [id]).sorted()))
            }
            if filter.mine {
                let me = try DeviceIdentity.load(db).advisor
                conditions.append("(owner = ? OR EXISTS (SELECT 1 FROM json_each(participants) WHERE value = ?))")
                arguments += [me, me]
            }
            if let caseID = filter.caseID {
                conditions.append("\"case\" = ?")
                arguments.append(try RecordResolver.resolve(caseID, among: [.case], field: "case", in: db).record)
            }
            let order = entity == .event ? "date DESC, id DESC" : entity == .advisor ? "name, id" : "id DESC"
            var sql =
                "SELECT * FROM \(RecordTable.name(of: entity)) WHERE \(conditions.joined(separator: " AND ")) ORDER BY \(order)"
            if let limit { sql += " LIMIT \(max(0, limit))" }
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map {
                RecordView(entity: entity, row: $0)
            }
        }
    }

    /// One live record, named by its full id, short id or a unique prefix (`RecordResolver`).
    /// - Throws: `.invalidData` naming `id` when there is no such record on this laptop.
    public func show(_ entity: Entity, id: String) throws -> RecordView {
        try store.read { db in
            let canonical = try RecordResolver.resolve(id, among: [entity], field: "id", in: db).record
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM \(RecordTable.name(of: entity)) WHERE id = ? AND deleted = 0",
                    arguments: [canonical])
            else { throw KakehashiError.invalid("id", "no \(entity.rawValue) with id \(canonical) on this laptop") }
            var view = RecordView(entity: entity, row: row)
            // Fields of a newer schema live only in the merged state: show them as received.
            if let state = try ChangeApplier.loadState(RecordRef(entity: entity, record: canonical), in: db) {
                view.addUnknownFields(from: state)
            }
            return view
        }
    }

    /// Names by id, for showing references: advisors and programs, organizations (every record
    /// of a company by the company's name) and case titles (not of stubs).
    public func directoryNames() throws -> [String: String] {
        try store.read { db in
            var names: [String: String] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT id, name FROM advisors UNION ALL SELECT id, name FROM programs
                    UNION ALL SELECT id, name FROM organizations UNION ALL SELECT id, title FROM cases
                    """)
            {
                if let name: String = row["name"] { names[row["id"]] = name }
            }
            for (id, representative) in try Self.organizationRepresentatives(in: db) where id != representative {
                if let name = names[representative] { names[id] = name }
            }
            return names
        }
    }

    /// Full-text search over cases, events, organizations, seeds and needs.
    public func search(_ query: String, limit: Int = 50) throws -> [SearchIndex.Hit] {
        try store.read { db in try SearchIndex.search(query, limit: limit, in: db) }
    }

    /// Seeds ranked for a need, with the keywords each matched.
    public func match(need id: String, limit: Int = 10) throws -> (keywords: [String], hits: [SearchIndex.Hit]) {
        try store.read { db in
            let canonical = try RecordResolver.resolve(id, among: [.need], field: "need", in: db).record
            guard let need = try ChangeApplier.loadState(RecordRef(entity: .need, record: canonical), in: db),
                !need.isDeleted
            else { throw KakehashiError.invalid("need", "no need with id \(canonical) on this laptop") }
            return (SeedMatcher.keywords(for: need), try SeedMatcher.match(need: need, limit: limit, in: db))
        }
    }
}
