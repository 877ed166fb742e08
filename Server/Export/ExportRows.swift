import KakehashiShared

/// Builds an export's row tables (cases, events, organizations, good practices) from the merged
/// records: chooses the rows a profile holds and redacts each one by its case's level.
struct ExportRows {
    let data: ReportData
    let profile: ExportProfile
    /// Only rows touching this fiscal year, when given.
    let fiscalYear: Int?

    private let includedCases: [ReportData.Case]
    private let includedEvents: [ReportData.Event]
    private let caseByID: [String: ReportData.Case]
    private let organizationByID: [String: ReportData.Organization]

    init(data: ReportData, profile: ExportProfile, fiscalYear: Int?) {
        self.data = data
        self.profile = profile
        self.fiscalYear = fiscalYear
        let exportable = data.cases.filter(ExportProfile.isExportable)
        let exportableByID = Dictionary(uniqueKeysWithValues: exportable.map { ($0.id, $0) })
        let eventsInScope = data.events.filter { exportableByID[$0.caseID] != nil }

        var cases = exportable
        if !profile.coversAllPrograms {
            let ministry = profile.ministry
            let touched = Set(
                eventsInScope.filter { data.ministry(ofProgram: data.program(ofAdvisor: $0.author)) == ministry }.map(
                    \.caseID))
            cases = exportable.filter {
                $0.knownLevel == .open || data.ministry(ofProgram: $0.program) == ministry || touched.contains($0.id)
            }
        }
        var caseIDs = Set(cases.map(\.id))
        var events = eventsInScope.filter { caseIDs.contains($0.caseID) }
        if let fiscalYear {
            let bounds = CalendarDate.fiscalYearBounds(fiscalYear)
            events = events.filter { bounds.contains($0.date) }
            let active = Set(events.map(\.caseID))
            cases = cases.filter { $0.changedYears.contains(fiscalYear) || active.contains($0.id) }
            caseIDs = Set(cases.map(\.id))
        }
        includedCases = cases
        includedEvents = events
        caseByID = exportableByID
        organizationByID = Dictionary(uniqueKeysWithValues: data.organizations.map { ($0.id, $0) })
    }

    // MARK: - Cases

    static let caseColumns: [ExportTable.Column] = [
        .init("id", "案件ID"), .init("title", "件名"), .init("summary", "概要"), .init("kind", "種別"),
        .init("stage", "段階"), .init("level", "秘密区分"), .init("program", "事業"), .init("ministry", "所管"),
        .init("prefecture", "都道府県"), .init("organizations", "支援先"), .init("organization_ids", "支援先ID"),
        .init("owner", "担当者"), .init("participants", "参加者"), .init("tags", "タグ"),
        .init("license_signed", "ライセンス契約締結"), .init("amount_yen", "契約金額（円）"),
        .init("product_launched", "製品化"), .init("good_practice", "好事例"), .init("created", "登録日"),
        .init("updated", "更新日"), .init("fiscal_year", "登録年度"), .init("redacted", "非開示"),
    ]

    func cases() -> ExportTable {
        var table = ExportTable(name: "cases", columns: Self.caseColumns, keyColumns: ["id"])
        for item in includedCases {
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
        .init("id", "活動ID"), .init("case", "案件ID"), .init("date", "日付"), .init("fiscal_year", "年度"),
        .init("kind", "種別"), .init("author", "記録者"), .init("author_program", "記録者の事業"),
        .init("author_ministry", "記録者の所管"), .init("prefecture", "都道府県"), .init("body", "内容"),
        .init("referred_to", "紹介先"), .init("referred_program", "紹介先の事業"), .init("redacted", "非開示"),
    ]

    func events() -> ExportTable {
        var table = ExportTable(name: "events", columns: Self.eventColumns, keyColumns: ["id"])
        for event in includedEvents {
            guard let item = caseByID[event.caseID] else { continue }
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
            table.append(row)
        }
        return table
    }

    // MARK: - Organizations

    static let organizationColumns: [ExportTable.Column] = [
        .init("id", "支援先ID"), .init("name", "名称"), .init("kind", "種別"), .init("prefecture", "都道府県"),
        .init("corporate_number", "法人番号"), .init("sme_type", "中小企業類型"), .init("notes", "備考"),
        .init("redacted", "非開示"),
    ]

    /// Organizations linked to this export's cases (every organization for `cabinet-office`),
    /// named only when a case this profile shows in full links them; otherwise by kind and
    /// prefecture alone, so a row never tells which company a hidden case concerns.
    func organizations() -> ExportTable {
        var linked = Set<String>()
        var named = Set<String>()
        for item in includedCases {
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

    static let goodPracticeColumns: [ExportTable.Column] = [
        .init("case", "案件ID"), .init("title", "件名"), .init("kind", "種別"), .init("stage", "段階"),
        .init("program", "事業"), .init("ministry", "所管"), .init("prefecture", "都道府県"),
        .init("organizations", "支援先"), .init("lesson_id", "教訓ID"), .init("lesson_date", "日付"),
        .init("fiscal_year", "年度"), .init("author", "記録者"), .init("lesson", "教訓"),
    ]

    /// Cases flagged 好事例 that this profile shows in full, one row per `lesson` event (one row
    /// with an empty lesson when none is written yet).
    func goodPractices() -> ExportTable {
        var table = ExportTable(
            name: "good-practices", columns: Self.goodPracticeColumns, keyColumns: ["case", "lesson_id"])
        var lessons: [String: [ReportData.Event]] = [:]
        for event in includedEvents where event.kind == "lesson" { lessons[event.caseID, default: []].append(event) }
        for item in includedCases where item.goodPractice && profile.showsContent(of: item, in: data) {
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
            let caseLessons = (lessons[item.id] ?? []).sorted { ($0.date, $0.id) < ($1.date, $1.id) }
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
