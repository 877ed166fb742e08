import KakehashiShared

/// The merged records that exports and indicators read, resolved into plain facts: names for
/// ids, ministries for programs, dates in Japan time. Deleted records, and events whose case is
/// gone, are left out.
///
/// Built once from a `LogSnapshot`; every list is sorted by id, so what is made from it is the
/// same bytes for the same log. Records are read through `Schema` (`RecordFields`): every field
/// read is one it declares, and a field that holds no value is its default there.
public struct ReportData: Sendable {
    public struct Program: Sendable, Hashable {
        public let id: String
        public let name: String
        public let ministry: String
    }

    public struct Advisor: Sendable, Hashable {
        public let id: String
        public let name: String
        public let program: String?
        public let prefecture: String?
    }

    public struct Organization: Sendable, Hashable {
        public let id: String
        public let name: String
        public let kind: String
        public let prefecture: String?
        public let corporateNumber: String?
        public let smeType: String?
        public let notes: String?
    }

    public struct Case: Sendable, Hashable {
        public let id: String
        public let title: String
        public let summary: String?
        public let kind: String
        public let stage: String
        public let level: String
        public let program: String?
        public let owner: String?
        public let participants: [String]
        public let organizations: [String]
        public let tags: [String]
        public let licenseSigned: Bool
        public let amountYen: Int64?
        public let productLaunched: Bool
        public let goodPractice: Bool
        /// The day of the case's first change (Japan time).
        public let created: CalendarDate
        /// The day of its latest change.
        public let updated: CalendarDate
        /// The day the current stage was set.
        public let stageSet: CalendarDate
        /// The day `product_launched` became true, when it is true.
        public let launched: CalendarDate?
        /// The one prefecture the case counts for (see `Docs/exports.md`), nil when unknown.
        public let prefecture: String?
        /// The fiscal years in which the case itself was changed.
        public let changedYears: Set<Int>

        /// The level, when it is one this build knows.
        public var knownLevel: ConfidentialityLevel? { ConfidentialityLevel(rawValue: level) }
        /// The stage, when it is one this build knows.
        public var knownStage: CaseStage? { CaseStage(rawValue: stage) }
    }

    public struct Event: Sendable, Hashable {
        public let id: String
        public let caseID: String
        public let kind: String
        public let date: CalendarDate
        public let author: String?
        public let participants: [String]
        public let body: String
        public let referredTo: String?
    }

    /// The log position the data is as of.
    public let head: Int64
    /// The day (Japan time) of the newest change in the log: reports' "today", so the same log
    /// gives the same report whenever it is made.
    public let asOf: CalendarDate
    public let programs: [String: Program]
    public let advisors: [String: Advisor]
    public let organizations: [Organization]
    public let cases: [Case]
    public let events: [Event]
    /// Each case's stage writes, oldest HLC first.
    let stageHistory: [String: [(hlc: HLC, stage: String)]]
    /// The wall time (HLC milliseconds) of each case's first change.
    let caseCreated: [String: Int64]

    public init(_ snapshot: LogSnapshot) {
        func states(_ entity: Entity) -> [RecordState] { snapshot.states[entity] ?? [] }
        func live(_ entity: Entity) -> [RecordState] { states(entity).filter { !$0.isDeleted } }
        func day(_ millis: Int64) -> CalendarDate { CalendarDate(japanTimeOf: millis) }

        head = snapshot.head
        asOf = CalendarDate(japanTimeOf: snapshot.latest?.millis ?? 0)

        var programs: [String: Program] = [:]
        for state in live(.program) {
            let fields = state.fields
            programs[state.id] = Program(
                id: state.id, name: fields.text("name") ?? state.id, ministry: fields.text("ministry") ?? "other")
        }
        self.programs = programs
        var advisors: [String: Advisor] = [:]
        for state in states(.advisor) {
            let fields = state.fields
            advisors[state.id] = Advisor(
                id: state.id, name: fields.text("name") ?? state.id, program: fields.text("program"),
                prefecture: fields.text("prefecture"))
        }
        self.advisors = advisors
        let organizations = live(.organization).map { state in
            let fields = state.fields
            return Organization(
                id: state.id, name: fields.text("name") ?? "", kind: fields.text("kind") ?? "other",
                prefecture: fields.text("prefecture"), corporateNumber: fields.text("corporate_number"),
                smeType: fields.text("sme_type"), notes: fields.text("notes"))
        }
        self.organizations = organizations
        let prefectureOf = Dictionary(uniqueKeysWithValues: organizations.map { ($0.id, $0.prefecture) })

        var history: [String: [(hlc: HLC, stage: String)]] = [:]
        for change in snapshot.stageWrites {
            guard case .string(let stage) = change.value else { continue }
            history[change.record, default: []].append((change.hlc, stage))
        }
        for key in history.keys { history[key]!.sort { $0.hlc < $1.hlc } }
        stageHistory = history
        var caseCreated: [String: Int64] = [:]

        var cases: [Case] = []
        for state in live(.case) {
            let fields = state.fields
            let created = snapshot.caseChangeTimes[state.id]?.min() ?? state.lastEdit?.hlc.millis ?? 0
            caseCreated[state.id] = created
            let organizationIDs = fields.elements("organizations")
            let owner = fields.text("owner")
            let launched = fields.flag("product_launched")
            cases.append(
                Case(
                    id: state.id, title: fields.text("title") ?? "", summary: fields.text("summary"),
                    kind: fields.text("kind") ?? "other", stage: fields.defaultedText("stage"),
                    level: fields.defaultedText("level"), program: fields.text("program"), owner: owner,
                    participants: fields.elements("participants"), organizations: organizationIDs,
                    tags: fields.elements("tags"), licenseSigned: fields.flag("license_signed"),
                    amountYen: fields.integer("amount_yen"), productLaunched: launched,
                    goodPractice: fields.flag("good_practice"), created: day(created),
                    updated: day(state.lastEdit?.hlc.millis ?? created),
                    stageSet: day(fields.write("stage")?.hlc.millis ?? created),
                    launched: launched ? day(fields.write("product_launched")?.hlc.millis ?? created) : nil,
                    prefecture: Self.prefecture(
                        of: organizationIDs.compactMap { prefectureOf[$0] ?? nil },
                        fallback: owner.flatMap { advisors[$0]?.prefecture }),
                    changedYears: Set(
                        (snapshot.caseChangeTimes[state.id] ?? []).map { CalendarDate(japanTimeOf: $0).fiscalYear })))
        }
        self.cases = cases
        self.caseCreated = caseCreated
        let caseIDs = Set(cases.map(\.id))

        events = live(.event).compactMap { Self.event($0, caseIDs: caseIDs) }
    }

    /// The event a merged `event` record is, or nil when it is deleted, its case is not among
    /// `caseIDs` (the live cases) or it has no valid date. Exports read events this way whether
    /// they come in `events` or page by page from the store.
    static func event(_ state: RecordState, caseIDs: Set<String>) -> Event? {
        let fields = state.fields
        guard !state.isDeleted, let caseID = fields.text("case"), caseIDs.contains(caseID),
            let date = fields.text("date").flatMap(CalendarDate.init)
        else { return nil }
        return Event(
            id: state.id, caseID: caseID, kind: fields.text("kind") ?? "note", date: date,
            author: EventCredit.author(of: state), participants: fields.elements("participants"),
            body: fields.text("body") ?? "", referredTo: EventCredit.referredTo(of: state))
    }

    /// The ids of the live cases: the cases events may be on.
    var caseIDs: Set<String> { Set(cases.map(\.id)) }

    /// The prefecture a case counts for: the one most of its organizations are in (ties go to
    /// the first in JIS order), else its owner's, else none.
    static func prefecture(of organizationPrefectures: [String], fallback: String?) -> String? {
        guard !organizationPrefectures.isEmpty else { return fallback }
        var counts: [String: Int] = [:]
        for prefecture in organizationPrefectures { counts[prefecture, default: 0] += 1 }
        let order = Domains.prefecture.values
        return counts.max { lhs, rhs in
            if lhs.value != rhs.value { return lhs.value < rhs.value }
            return (order.firstIndex(of: lhs.key) ?? .max) > (order.firstIndex(of: rhs.key) ?? .max)
        }?.key
    }

    /// The ministry that funds a program (`other` when unknown).
    public func ministry(ofProgram program: String?) -> String {
        program.flatMap { programs[$0]?.ministry } ?? "other"
    }

    /// The program an advisor belongs to.
    public func program(ofAdvisor advisor: String?) -> String? {
        advisor.flatMap { advisors[$0]?.program }
    }

    /// The stage a case was in at the end of `day` (Japan time), or nil when it did not exist
    /// yet. The stage write that wins is the latest by HLC among those made by then, as the log
    /// knows them now.
    public func stage(of caseID: String, atEndOf day: CalendarDate) -> String? {
        guard let created = caseCreated[caseID], CalendarDate(japanTimeOf: created) <= day else { return nil }
        let writes = stageHistory[caseID] ?? []
        return writes.last { CalendarDate(japanTimeOf: $0.hlc.millis) <= day }?.stage ?? Self.unsetStage
    }

    /// The stage of a case whose stage was never written: the `stage` field's default in `Schema`.
    static let unsetStage = Entity.case.schema.spec("stage").textDefault
}
