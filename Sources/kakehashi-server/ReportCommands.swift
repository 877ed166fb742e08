import ArgumentParser
import Foundation
import KakehashiServer
import KakehashiShared

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a ministry's export files (cases, events, organizations, indicators, good practices).",
        discussion: """
            Profiles: cabinet-office (every program), meti, mext (that ministry's programs, plus every open case).
            Rows are redacted by level: open in full; confidential in full only for the funding ministry,
            metadata otherwise; strict metadata only; secret never as a row, only inside the indicators.
            CSV is UTF-8 with a BOM and CRLF line ends, for Excel; xlsx writes one workbook
            (kakehashi-PROFILE.xlsx) with a sheet per table and typed cells. manifest.json records the profile, the
            filters, the log cursor range, the row counts and a SHA-256 of every file; pass its cursor.to as
            --since to the next export to get only what changed. Prints the output directory.
            """)
    @OptionGroup var store: StoreOptions
    @Option(help: "cabinet-office, meti or mext.", completion: .list(["cabinet-office", "meti", "mext"]))
    var profile: String
    @Option(help: "Directory to write into (created when missing).", completion: .directory) var out: String
    @Option(help: "csv (default), jsonl or xlsx.") var format = "csv"
    @Option(help: "Headers, sheet names and values: ja (default) or en.") var labels = "ja"
    @Option(help: "Only this Japanese fiscal year (April–March), e.g. 2026.") var fiscalYear: Int?
    @Option(help: "Only rows changed after this cursor (cursor.to in an earlier manifest.json).") var since: Int64?

    func run() async throws {
        // Arguments are checked before the store is opened: a bad one changes nothing.
        let options = try Main.reportingErrors {
            let options = Exporter.Options(
                profile: try ExportProfile.parse(profile), format: try ExportFormat.parse(format),
                labels: try ExportTable.Labels.parse(labels), fiscalYear: fiscalYear, since: since,
                directory: out)
            try Exporter.validate(options)
            return options
        }
        try await Main.withStore(store) { store, _ in
            let manifest = try await Exporter(store: store).run(options)
            let summary = manifest.files.map { "\($0.name) \($0.rows)" }.joined(separator: ", ")
            StandardStreams.error(
                "exported profile \(manifest.profile), log \(manifest.cursor.from)…\(manifest.cursor.to): \(summary)\n")
            print(out)
        }
    }
}

struct Indicators: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Indicators per Japanese fiscal year, ministry, program and prefecture.",
        discussion: """
            Counts consultations and visits, matchings, prototypes, contracts, licences, subsidies, launches,
            publicity, new and closed cases, cases per stage at year end, and referrals between programs.
            An event counts for its author's program, a case for its funding program; totals count each case
            once. Secret cases are counted but never shown. Without a format option, prints tables per year
            that fit $COLUMNS (default 80).
            """)
    @OptionGroup var store: StoreOptions
    @Option(help: "Only this fiscal year, e.g. 2026 (April 2026 – March 2027).") var fiscalYear: Int?
    @Flag(help: "Print one JSON document.") var json = false
    @Flag(help: "Print CSV for Excel (UTF-8 with BOM, CRLF).") var csv = false
    @Option(help: "Write a self-contained HTML report with SVG charts to this file.") var html: String?
    @Option(help: "CSV headers and values: ja (default) or en.") var labels = "ja"

    func validate() throws {
        if [json, csv, html != nil].filter({ $0 }).count > 1 {
            throw ValidationError("choose one of --json, --csv and --html")
        }
    }

    func run() async throws {
        let labels = try Main.reportingErrors {
            if let year = fiscalYear, !(1900..<2199).contains(year) {
                throw KakehashiError.invalid("fiscal-year", "\(year) is not a fiscal year; e.g. 2026")
            }
            return try ExportTable.Labels.parse(self.labels)
        }
        try await Main.withStore(store) { store, _ in
            let now = serverWallMillis()
            // The HTML report of one year still compares it with the years before.
            let report = try await IndicatorEngine.compute(from: store, fiscalYear: html == nil ? fiscalYear : nil)
            if json { return try Main.printJSON(report) }
            if csv {
                try StandardStreams.output(try TableEncoding.csv(report.table(), labels: labels))
                return
            }
            if let html {
                do {
                    let page = report.html(generatedAt: Exporter.timestamp(millis: now), fiscalYear: fiscalYear)
                    try Data(page.utf8).write(to: URL(fileURLWithPath: html))
                } catch {
                    throw KakehashiError.invalid("html", "cannot write \(html): \(error.localizedDescription)")
                }
                print(html)
                return
            }
            let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init).map { max(40, $0) } ?? 80
            print(Self.text(report, width: columns))
        }
    }

    /// Per fiscal year, one line per program with the main figures, in as few tables as fit
    /// `width` columns beside a program name column of at least `nameWidth` (longer names are
    /// shortened with "…"). The figures are shared evenly between the tables, and every table's
    /// name column is as wide, so the programs line up from one table to the next.
    static func text(_ report: IndicatorReport, width: Int, nameWidth: Int = 16) -> String {
        guard !report.fiscalYears.isEmpty else { return "no activity recorded yet" }
        let metrics: [IndicatorReport.Metric] =
            IndicatorReport.Metric.activity + [.newCases, .closedCases, .referralsOut, .referralsIn]
        var blocks: [String] = []
        for year in report.fiscalYears {
            let totals = report.programTotals(fiscalYear: year)
            func columnWidth(_ metric: IndicatorReport.Metric) -> Int {
                let figures = totals.map { String($0.counts[metric] ?? 0).count }.max() ?? 1
                return max(DisplayWidth.of(metric.label), figures) + 2  // with the two spaces before it
            }
            let groups = evenGroups(of: metrics, width: width - nameWidth, columnWidth: columnWidth)
            let groupWidths = groups.map { $0.map(columnWidth).reduce(0, +) }
            let longestName = totals.map { DisplayWidth.of(report.programName($0.program)) }.max() ?? 0
            let nameColumn = max(DisplayWidth.of("事業"), min(longestName, width - (groupWidths.max() ?? 0)))
            var tables: [String] = []
            for (group, groupWidth) in zip(groups, groupWidths) {
                var table = TextTable(headers: ["事業"] + group.map(\.label))
                table.width = nameColumn + groupWidth
                table.fixedColumns = Set(1...group.count)
                for (program, counts) in totals {
                    table.append([report.programName(program)] + group.map { String(counts[$0] ?? 0) })
                }
                tables.append(table.render())
            }
            blocks.append("\(year)年度（\(year)年4月〜\(year + 1)年3月）\n" + tables.joined(separator: "\n\n"))
        }
        return blocks.joined(separator: "\n\n")
    }

    /// `items` in order, cut into as few runs as fit in `width` (by `columnWidth`), of sizes as
    /// even as fit; an item wider than `width` alone is a run of its own.
    static func evenGroups<Item>(
        of items: [Item], width: Int, columnWidth: (Item) -> Int
    ) -> [[Item]] {
        func fits(_ run: ArraySlice<Item>) -> Bool { run.count == 1 || run.map(columnWidth).reduce(0, +) <= width }
        for count in 1...max(1, items.count) {
            let size = (items.count + count - 1) / count
            let runs = stride(from: 0, to: items.count, by: size).map { items[$0..<min($0 + size, items.count)] }
            if runs.allSatisfy(fits) { return runs.map(Array.init) }
        }
        return items.map { [$0] }
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import records from files.", subcommands: [Seeds.self])

    struct Seeds: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import an open-patent or university seed list (CSV); prints the new seeds' ids.",
            discussion: """
                Columns (English or Japanese headers, any order): title/名称 (required), description/説明,
                holder/保有機関 (an organization name; created when new, with holder_kind and
                holder_prefecture if given), kind/種別 (default open-patent), patent_numbers/特許番号,
                licensable/ライセンス可 (yes/no, はい/いいえ, 可/不可; default yes), tags/タグ. Separate several
                patent numbers or tags with ';' or '、'. UTF-8 (with or without BOM) or Shift_JIS.
                Every invalid row is reported with its line number, and nothing is imported unless all rows are
                valid or --skip-invalid is given. Seeds already present (same title and holder) are left alone.
                """)
        @OptionGroup var store: StoreOptions
        @Argument(help: "The CSV file.") var file: String
        @Flag(help: "Import the valid rows and report the invalid ones.") var skipInvalid = false
        @Flag(help: "Print one JSON document.") var json = false

        func run() async throws {
            try await Main.withStore(store) { _, admin in
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw KakehashiError.invalid("file", "cannot read '\(file)'")
                }
                let seeds = try SeedFile(data: data, name: file)
                let outcome = try await admin.importSeeds(seeds, name: file, skipInvalid: skipInvalid)
                if json { return try Main.printJSON(outcome) }
                for problem in outcome.skipped {
                    StandardStreams.error("skipped \(problem)\n")
                }
                for id in outcome.imported { print(id) }
                var summary = "imported \(outcome.imported.count) seed(s)"
                if !outcome.organizationsCreated.isEmpty {
                    summary += ", created \(outcome.organizationsCreated.count) organization(s)"
                }
                if !outcome.alreadyPresent.isEmpty {
                    let lines = outcome.alreadyPresent.map(String.init).joined(separator: ", ")
                    summary += ", \(outcome.alreadyPresent.count) already present (lines \(lines))"
                }
                if !outcome.skipped.isEmpty { summary += ", \(outcome.skipped.count) invalid row(s) skipped" }
                if !outcome.merged.isEmpty {
                    let lines = outcome.merged.map(String.init).joined(separator: ", ")
                    summary += ", lines \(lines) merged into an earlier row with the same title and holder"
                }
                StandardStreams.error(summary + "\n")
            }
        }
    }
}
