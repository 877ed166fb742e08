import KakehashiShared

/// Counts the indicators from the merged records (`Docs/exports.md` gives the rules).
public enum IndicatorEngine {
    /// The program id figures are attributed to when neither the author nor the case has one.
    public static let unassignedProgram = "unassigned"

    /// - Parameters:
    ///   - fiscalYear: only this fiscal year, when given.
    ///   - ministry: only programs of this ministry (and referrals touching them), when given.
    ///   - today: the current day in Japan; the running fiscal year's year-end stages are as of it.
    public static func compute(
        _ data: ReportData, fiscalYear: Int? = nil, ministry: String? = nil, today: CalendarDate
    ) -> IndicatorReport {
        var counting = Counting(data, ministry: ministry)
        for event in data.events { counting.count(event) }
        return counting.report(fiscalYear: fiscalYear, today: today)
    }

    /// The counting of one report: events are counted one at a time, as they come (from
    /// `ReportData.events`, or page by page from the store in a streaming export), then the cases
    /// of the `ReportData` given. Its memory grows with the cases, programs and years, not the events.
    struct Counting {
        private var tally: Tally
        private let caseByID: [String: ReportData.Case]

        /// - Parameter data: the cases and directories the events are counted against; its own
        ///   `events` are not read here.
        init(_ data: ReportData, ministry: String?) {
            tally = Tally(data: data, ministry: ministry)
            caseByID = Dictionary(uniqueKeysWithValues: data.cases.map { ($0.id, $0) })
        }

        /// Counts one event. Each event is counted once.
        mutating func count(_ event: ReportData.Event) {
            let data = tally.data
            guard let item = caseByID[event.caseID] else { return }
            let year = event.date.fiscalYear
            let authorProgram = data.program(ofAdvisor: event.author) ?? item.program
            if let metric = IndicatorReport.Metric.counting(eventKind: event.kind) {
                tally.add(metric, year: year, program: authorProgram, prefecture: item.prefecture)
            }
            if event.kind == "referral", let from = authorProgram, let to = data.program(ofAdvisor: event.referredTo),
                from != to
            {
                tally.add(.referralsOut, year: year, program: from, prefecture: item.prefecture)
                tally.add(.referralsIn, year: year, program: to, prefecture: item.prefecture)
                tally.referral(year: year, from: from, to: to)
            }
        }

        /// Counts the cases and returns the report.
        func report(fiscalYear: Int?, today: CalendarDate) -> IndicatorReport {
            var tally = tally
            let data = tally.data
            var firstYear = Int.max
            for item in data.cases {
                firstYear = min(firstYear, item.created.fiscalYear)
                tally.add(.newCases, year: item.created.fiscalYear, program: item.program, prefecture: item.prefecture)
                if item.knownStage?.endsCase == true {
                    tally.add(
                        .closedCases, year: item.stageSet.fiscalYear, program: item.program,
                        prefecture: item.prefecture)
                }
                if let launched = item.launched {
                    tally.add(.launches, year: launched.fiscalYear, program: item.program, prefecture: item.prefecture)
                }
            }

            // Cases per stage at each fiscal year's end (today, for the year still running), and
            // how far each had come by then (the funnel).
            if firstYear != Int.max {
                for year in firstYear...max(firstYear, today.fiscalYear) {
                    let end = min(CalendarDate.fiscalYearBounds(year).upperBound, today)
                    for item in data.cases {
                        guard let stage = data.stage(of: item.id, atEndOf: end).flatMap(CaseStage.init(rawValue:)),
                            let metric = IndicatorReport.Metric.yearEnd(stage)
                        else { continue }
                        tally.add(metric, year: year, program: item.program, prefecture: item.prefecture)
                        tally.funnel(
                            year: year, program: item.program, furthest: furthestStage(of: item.id, by: end, data))
                    }
                }
            }
            return tally.report(fiscalYear: fiscalYear)
        }
    }

    /// How far along a stage is (`CaseStage.progress`); a stage that ends a case without moving it
    /// on, or one this build does not know, counts as the start.
    static func progress(_ stage: CaseStage?) -> Int { stage?.progress ?? 0 }

    /// The `progress` of the furthest stage written for a case by the end of `day`.
    static func furthestStage(of caseID: String, by day: CalendarDate, _ data: ReportData) -> Int {
        var furthest = 0
        for write in data.stageHistory[caseID] ?? [] where CalendarDate(japanTimeOf: write.hlc.millis) <= day {
            furthest = max(furthest, progress(CaseStage(rawValue: write.stage)))
        }
        return furthest
    }

    /// The counts being gathered: per (year, program, prefecture) row, and per year the distinct
    /// ids behind each metric for the totals.
    private struct Tally {
        struct Key: Hashable {
            let year: Int
            let program: String
            let prefecture: String?
        }

        let data: ReportData
        let ministry: String?
        var rows: [Key: [String: Int]] = [:]
        /// Per year and metric, the records counted: each case or event is added at most once
        /// for a metric in a year (an event for its kind or as a referral out or in; a case once
        /// per case metric and once per year end), so this counts distinct ids without keeping them.
        var totals: [Int: [String: Int]] = [:]
        var referrals: [[String]: Int] = [:]
        var funnels: [Int: [String: [String: Int]]] = [:]
        var years = Set<Int>()

        init(data: ReportData, ministry: String?) {
            self.data = data
            self.ministry = ministry
        }

        private func counts(_ program: String) -> Bool {
            ministry == nil || data.ministry(ofProgram: program) == ministry
        }

        mutating func add(_ metric: IndicatorReport.Metric, year: Int, program: String?, prefecture: String?) {
            let program = program ?? IndicatorEngine.unassignedProgram
            guard counts(program) else { return }
            years.insert(year)
            rows[Key(year: year, program: program, prefecture: prefecture), default: [:]][
                metric.rawValue, default: 0] +=
                1
            totals[year, default: [:]][metric.rawValue, default: 0] += 1
        }

        /// Counts a case at every funnel stage up to its furthest (a `progress`).
        mutating func funnel(year: Int, program: String?, furthest: Int) {
            let program = program ?? IndicatorEngine.unassignedProgram
            guard counts(program) else { return }
            for stage in IndicatorReport.funnelStages where IndicatorEngine.progress(stage) <= furthest {
                funnels[year, default: [:]][program, default: [:]][stage.rawValue, default: 0] += 1
            }
        }

        mutating func referral(year: Int, from: String, to: String) {
            guard counts(from) || counts(to) else { return }
            referrals[[String(year), from, to], default: 0] += 1
        }

        func report(fiscalYear: Int?) -> IndicatorReport {
            let keep: (Int) -> Bool = { year in fiscalYear.map { $0 == year } ?? true }
            let prefectureOrder = Dictionary(
                uniqueKeysWithValues: Domains.prefecture.values.enumerated().map { ($1, $0) })
            let sortedRows = rows.filter { keep($0.key.year) }.map { key, counts in
                IndicatorReport.Row(
                    fiscalYear: key.year, program: key.program, ministry: data.ministry(ofProgram: key.program),
                    prefecture: key.prefecture, counts: counts)
            }.sorted { lhs, rhs in
                (lhs.fiscalYear, lhs.ministry, lhs.program, lhs.prefecture.flatMap { prefectureOrder[$0] } ?? 99)
                    < (rhs.fiscalYear, rhs.ministry, rhs.program, rhs.prefecture.flatMap { prefectureOrder[$0] } ?? 99)
            }
            let sortedReferrals = referrals.compactMap { key, count -> IndicatorReport.Referral? in
                guard let year = Int(key[0]), keep(year) else { return nil }
                return IndicatorReport.Referral(fiscalYear: year, fromProgram: key[1], toProgram: key[2], count: count)
            }.sorted { ($0.fiscalYear, $0.fromProgram, $0.toProgram) < ($1.fiscalYear, $1.fromProgram, $1.toProgram) }
            let sortedTotals = totals.filter { keep($0.key) }.sorted { $0.key < $1.key }.map { year, counts in
                IndicatorReport.Total(fiscalYear: year, counts: counts)
            }
            var labels: [String: IndicatorReport.ProgramLabel] = [:]
            for program in data.programs.values {
                labels[program.id] = .init(name: program.name, ministry: program.ministry)
            }
            labels[IndicatorEngine.unassignedProgram] = .init(name: "未設定", ministry: "other")
            let sortedFunnels = funnels.filter { keep($0.key) }.sorted { $0.key < $1.key }.flatMap { year, programs in
                programs.sorted { $0.key < $1.key }.map {
                    IndicatorReport.Funnel(fiscalYear: year, program: $0.key, reached: $0.value)
                }
            }
            return IndicatorReport(
                fiscalYears: years.filter(keep).sorted(), rows: sortedRows, referrals: sortedReferrals,
                totals: sortedTotals, funnels: sortedFunnels, programs: labels)
        }
    }
}
