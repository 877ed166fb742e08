import KakehashiShared

/// Builds an export's row tables (cases, events, organizations, good practices) from the merged
/// records: chooses the rows a profile holds and redacts each one by its case's level.
///
/// Events are the bulk of a log, so they are not held here: `eventRow` decides and redacts one
/// event at a time, whether the events come from `ReportData.events` (`tables()`) or page by page
/// from the store (`Exporter`'s streaming path); what the other tables need to know of the events
/// is gathered in `EventFacts`.
struct ExportRows {
    let data: ReportData
    let profile: ExportProfile
    /// Only rows touching this fiscal year, when given.
    let fiscalYear: Int?

    /// The cases this profile holds before the fiscal-year filter, in id order.
    private let selectedCases: [ReportData.Case]
    private let selectedCaseIDs: Set<String>
    private let caseByID: [String: ReportData.Case]
    private let organizationByID: [String: ReportData.Organization]

    /// What the case, organization and good-practice tables need to know of the events in this
    /// export: O(cases), with the bodies of good-practice lessons only.
    struct EventFacts {
        /// Cases with an event in this export.
        var active = Set<String>()
        /// The `lesson` events in this export, by case.
        var lessons: [String: [ReportData.Event]] = [:]

        mutating func add(_ event: ReportData.Event) {
            active.insert(event.caseID)
            if event.kind == "lesson" { lessons[event.caseID, default: []].append(event) }
        }
    }

    /// - Parameter touched: the cases with an event written by an advisor of the profile's
    ///   ministry (`touches`); only a ministry's profile reads it.
    init(data: ReportData, profile: ExportProfile, fiscalYear: Int?, touched: Set<String>) {
        self.data = data
        self.profile = profile
        self.fiscalYear = fiscalYear
        let exportable = data.cases.filter(ExportProfile.isExportable)
        var cases = exportable
        if !profile.coversAllPrograms {
            let ministry = profile.ministry
            cases = exportable.filter {
                $0.knownLevel == .open || data.ministry(ofProgram: $0.program) == ministry || touched.contains($0.id)
            }
        }
        selectedCases = cases
        selectedCaseIDs = Set(cases.map(\.id))
        caseByID = Dictionary(uniqueKeysWithValues: exportable.map { ($0.id, $0) })
        organizationByID = Dictionary(uniqueKeysWithValues: data.organizations.map { ($0.id, $0) })
    }

    /// The rows of `data`, events included.
    init(data: ReportData, profile: ExportProfile, fiscalYear: Int?) {
        var touched = Set<String>()
        if Self.readsTouchedCases(profile) {
            for event in data.events where Self.touches(event, profile: profile, data: data) {
                touched.insert(event.caseID)
            }
        }
        self.init(data: data, profile: profile, fiscalYear: fiscalYear, touched: touched)
    }

    /// Whether this profile's cases depend on who wrote their events (a ministry's profile does):
    /// then the events are read twice, first for `touches`.
    static func readsTouchedCases(_ profile: ExportProfile) -> Bool { !profile.coversAllPrograms }

    /// Whether `event` brings its case into a ministry's profile (when the case may be exported
    /// at all): it was written by an advisor of one of the ministry's programs.
    static func touches(_ event: ReportData.Event, profile: ExportProfile, data: ReportData) -> Bool {
        data.ministry(ofProgram: data.program(ofAdvisor: event.author)) == profile.ministry
    }

    /// The four row tables of `data`'s events and cases, in file order.
    func tables() -> (cases: ExportTable, events: ExportTable, organizations: ExportTable, goodPractices: ExportTable) {
        var events = Self.emptyEvents
        var facts = EventFacts()
        for event in data.events {
            guard let row = eventRow(event) else { continue }
            events.append(row)
            facts.add(event)
        }
        return (cases(facts), events, organizations(facts), goodPractices(facts))
    }

    /// The cases this export holds, in id order.
    private func includedCases(_ facts: EventFacts) -> [ReportData.Case] {
        guard let fiscalYear else { return selectedCases }
        return selectedCases.filter { $0.changedYears.contains(fiscalYear) || facts.active.contains($0.id) }
    }

    // MARK: - Cases

    /// A case's fields are headed by their labels in `Schema` (the ministry by the program's); the
    /// columns made here (the case's one prefecture, dates, redaction) by their own.
    static let caseColumns: [ExportTable.Column] = [
        .init("id", "案件ID"), .init("title", of: .case), .init("summary", of: .case), .init("kind", of: .case),
        .init("stage", of: .case), .init("level", of: .case), .init("program", of: .case),
        .init("ministry", of: .program), .init("prefecture", "都道府県"), .init("organizations", of: .case),
        .init("organization_ids", "支援先ID"), .init("owner", of: .case), .init("participants", of: .case),
        .init("tags", of: .case), .init("license_signed", of: .case), .init("amount_yen", of: .case),
        .init("product_launched", of: .case), .init("good_practice", of: .case), .init("created", "登録日"),
        .init("updated", "更新日"), .init("fiscal_year", "登録年度"), .init("redacted", "非開示"),
    ]

    func cases(_ facts: EventFacts) -> ExportTable {
        var table = ExportTable(name: "cases", columns: Self.caseColumns, keyColumns: ["id"])
        for item in includedCases(facts) {
            let full = profile.showsContent(of: item, in: data)
            var row: [String: ExportTable.Cell] = [
                "id": .text(item.id),
                "kind": .coded(item.kind, Domains.caseKind),
                "stage": .coded(item.stage, Domains.caseStage),
                "level": .coded(item.level, Domains.level),
                "program": programCell(item.program),
                "ministry": ministryCell(item.program),
                "prefecture": .coded(item.prefecture, Domains.prefecture),
                "license_signed": .bool(item.licenseSigned),
                "product_launched": .bool(item.productLaunched),
                "good_practice": .bool(item.goodPractice),
                "created": .date(item.created),
                "updated": .date(item.updated),
                "fiscal_year": .integer(Int64(item.created.fiscalYear)),
                "redacted": .bool(!full),
            ]
            let organizations = item.organizations.compactMap { organizationByID[$0] }
            if full {
                row["title"] = .text(item.title)
                row["summary"] = item.summary.map(ExportTable.Cell.text) ?? .null
                row["organizations"] = .texts(organizations.map(\.name))
                row["organization_ids"] = .texts(organizations.map(\.id))
                row["owner"] = advisorCell(item.owner)
                row["participants"] = .texts(item.participants.map { data.advisors[$0]?.name ?? $0 })
                row["tags"] = .texts(item.tags)
                row["amount_yen"] = item.amountYen.map(ExportTable.Cell.integer) ?? .null
            } else {
                row["organizations"] = .codes(
                    organizations.map { "\($0.kind)/\($0.prefecture ?? "")" },
                    labels: organizations.map(Self.kindAndPrefecture))
            }
            table.append(row)
        }
        return table
    }

    // MARK: - Events

    static let eventColumns: [ExportTable.Column] = [
        .init("id", "活動ID"), .init("case", "案件ID"), .init("date", of: .event), .init("fiscal_year", "年度"),
        .init("kind", of: .event), .init("author", of: .event), .init("author_program", "記録者の事業"),
        .init("author_ministry", "記録者の所管"), .init("prefecture", "都道府県"), .init("body", of: .event),
        .init("referred_to", of: .event), .init("referred_program", "紹介先の事業"), .init("redacted", "非開示"),
    ]

    /// The events table without rows.
    static var emptyEvents: ExportTable { ExportTable(name: "events", columns: eventColumns, keyColumns: ["id"]) }

    /// `event`'s row, redacted by its case's level; nil when this export does not hold it (its
    /// case is not in the profile, or it is outside the fiscal year).
    func eventRow(_ event: ReportData.Event) -> [String: ExportTable.Cell]? {
        guard selectedCaseIDs.contains(event.caseID), let item = caseByID[event.caseID] else { return nil }
        if let fiscalYear, !CalendarDate.fiscalYearBounds(fiscalYear).contains(event.date) { return nil }
        let full = profile.showsContent(of: item, in: data)
        let authorProgram = data.program(ofAdvisor: event.author)
        var row: [String: ExportTable.Cell] = [
            "id": .text(event.id),
            "case": .text(event.caseID),
            "date": .date(event.date),
            "fiscal_year": .integer(Int64(event.date.fiscalYear)),
            "kind": .coded(event.kind, Domains.eventKind),
            "author_program": programCell(authorProgram),
            "author_ministry": ministryCell(authorProgram),
            "prefecture": .coded(item.prefecture, Domains.prefecture),
            "referred_program": programCell(data.program(ofAdvisor: event.referredTo)),
            "redacted": .bool(!full),
        ]
        if full {
            row["author"] = advisorCell(event.author)
            row["body"] = .text(event.body)
            row["referred_to"] = advisorCell(event.referredTo)
        }
        return row
    }

    // MARK: - Organizations

    static let organizationColumns: [ExportTable.Column] = [
        .init("id", "支援先ID"), .init("name", of: .organization), .init("kind", of: .organization),
        .init("prefecture", of: .organization), .init("corporate_number", of: .organization),
        .init("sme_type", of: .organization), .init("notes", of: .organization), .init("redacted", "非開示"),
    ]

    /// Organizations linked to this export's cases (every organization for `cabinet-office`),
    /// named only when a case this profile shows in full links them; otherwise by kind and
    /// prefecture alone, so a row never tells which company a hidden case concerns.
    func organizations(_ facts: EventFacts) -> ExportTable {
        var linked = Set<String>()
        var named = Set<String>()
        for item in includedCases(facts) {
            linked.formUnion(item.organizations)
            if profile.showsContent(of: item, in: data) { named.formUnion(item.organizations) }
        }
        var table = ExportTable(name: "organizations", columns: Self.organizationColumns, keyColumns: ["id"])
        let everyOrganization = profile.coversAllPrograms && fiscalYear == nil
        for organization in data.organizations
        where everyOrganization || linked.contains(organization.id) {
            let full = named.contains(organization.id)
            var row: [String: ExportTable.Cell] = [
                "id": .text(organization.id),
                "kind": .coded(organization.kind, Domains.organizationKind),
                "prefecture": .coded(organization.prefecture, Domains.prefecture),
                "redacted": .bool(!full),
            ]
            if full {
                row["name"] = .text(organization.name)
                row["corporate_number"] = organization.corporateNumber.map(ExportTable.Cell.text) ?? .null
                row["sme_type"] = .coded(organization.smeType, Domains.smeType)
                row["notes"] = organization.notes.map(ExportTable.Cell.text) ?? .null
            }
            table.append(row)
        }
        return table
    }

    // MARK: - Good practices

    /// The case's fields, then its lessons': a `lesson` event's date and author.
    static let goodPracticeColumns: [ExportTable.Column] = [
        .init("case", "案件ID"), .init("title", of: .case), .init("kind", of: .case), .init("stage", of: .case),
        .init("program", of: .case), .init("ministry", of: .program), .init("prefecture", "都道府県"),
        .init("organizations", of: .case), .init("lesson_id", "教訓ID"), .init("date", of: .event, key: "lesson_date"),
        .init("fiscal_year", "年度"), .init("author", of: .event), .init("lesson", "教訓"),
    ]

    /// Cases flagged 好事例 that this profile shows in full, one row per `lesson` event (one row
    /// with an empty lesson when none is written yet).
    func goodPractices(_ facts: EventFacts) -> ExportTable {
        var table = ExportTable(
            name: "good-practices", columns: Self.goodPracticeColumns, keyColumns: ["case", "lesson_id"])
        for item in includedCases(facts) where item.goodPractice && profile.showsContent(of: item, in: data) {
            let base: [String: ExportTable.Cell] = [
                "case": .text(item.id),
                "title": .text(item.title),
                "kind": .coded(item.kind, Domains.caseKind),
                "stage": .coded(item.stage, Domains.caseStage),
                "program": programCell(item.program),
                "ministry": ministryCell(item.program),
                "prefecture": .coded(item.prefecture, Domains.prefecture),
                "organizations": .texts(item.organizations.compactMap { organizationByID[$0]?.name }),
            ]
            let caseLessons = (facts.lessons[item.id] ?? []).sorted { ($0.date, $0.id) < ($1.date, $1.id) }
            if caseLessons.isEmpty { table.append(base) }
            for lesson in caseLessons {
                var row = base
                row["lesson_id"] = .text(lesson.id)
                row["lesson_date"] = .date(lesson.date)
                row["fiscal_year"] = .integer(Int64(lesson.date.fiscalYear))
                row["author"] = advisorCell(lesson.author)
                row["lesson"] = .text(lesson.body)
                table.append(row)
            }
        }
        return table
    }

    // MARK: - Cells

    private func programCell(_ program: String?) -> ExportTable.Cell {
        guard let program else { return .null }
        return .code(program, label: data.programs[program]?.name ?? program)
    }

    private func ministryCell(_ program: String?) -> ExportTable.Cell {
        guard program != nil else { return .null }
        return .coded(data.ministry(ofProgram: program), Domains.ministry)
    }

    private func advisorCell(_ advisor: String?) -> ExportTable.Cell {
        guard let advisor else { return .null }
        return .text(data.advisors[advisor]?.name ?? advisor)
    }

    static func kindAndPrefecture(_ organization: ReportData.Organization) -> String {
        let kind = Domains.organizationKind.label(of: organization.kind) ?? organization.kind
        guard let prefecture = organization.prefecture else { return kind }
        return "\(kind)（\(Domains.prefecture.label(of: prefecture) ?? prefecture)）"
    }
}
