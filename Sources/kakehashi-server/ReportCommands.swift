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
            once. Secret cases are counted but never shown. Without a format option, prints a table per year.
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
            let snapshot = try await store.snapshot(entities: LogSnapshot.reportingEntities, since: nil)
            let now = serverWallMillis()
            let data = ReportData(snapshot)
            // The HTML report of one year still compares it with the years before.
            let report = IndicatorEngine.compute(data, fiscalYear: html == nil ? fiscalYear : nil, today: data.asOf)
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
            print(Self.text(report))
        }
    }

    /// Per fiscal year, one line per program with the main figures.
    static func text(_ report: IndicatorReport) -> String {
        guard !report.fiscalYears.isEmpty else { return "no activity recorded yet" }
        let metrics: [IndicatorReport.Metric] =
            IndicatorReport.Metric.activity + [.newCases, .closedCases, .referralsOut, .referralsIn]
        var blocks: [String] = []
        for year in report.fiscalYears {
            let rows = report.programTotals(fiscalYear: year).map { program, counts in
                [report.programName(program)] + metrics.map { String(counts[$0] ?? 0) }
            }
            var block = "\(year)年度（\(year)年4月〜\(year + 1)年3月）\n"
            block += TextTable.render(header: ["事業"] + metrics.map(\.label), rows: rows)
            blocks.append(block)
        }
        return blocks.joined(separator: "\n\n")
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
