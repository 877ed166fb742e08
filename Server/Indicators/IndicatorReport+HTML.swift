import Foundation
import KakehashiShared

extension IndicatorReport {
    /// The figures a reader looks at first, in the headline panel and the trends.
    public static let headlineMetrics: [Metric] = [.newCases, .visits, .matchings, .licenses, .launches, .referralsOut]

    /// The name a headline figure goes by (referrals out of a program are, over all programs,
    /// the referrals between programs).
    static func headlineLabel(_ metric: Metric) -> String {
        metric == .referralsOut ? "事業間の紹介" : metric.label
    }

    /// The rules of attribution, for readers of the report.
    public static let attributionNote = """
        集計の決まり：年度は4月1日から翌年3月31日まで（日本時間）です。相談・訪問・マッチングなどの活動は、\
        記録した支援人材が所属する事業に計上し、案件（新規・終了・製品化・年度末の段階）は資金を出す事業に計上します。\
        案件とその活動は、支援先の多くが所在する都道府県（支援先がなければ担当者の都道府県）の1か所にだけ数えます。\
        事業間の紹介は、紹介元の「他事業への紹介」と紹介先の「他事業からの紹介」に1件ずつ表れ、同じ事業の中の紹介は数えません。\
        合計は同じ案件や活動を二重に数えず、各事業の行の和と一致します。秘密区分が「機密」の案件も件数には含めますが、\
        内容は示しません。
        """

    /// A self-contained HTML report (no scripts, no external files) for the people who read the
    /// figures: trends over every fiscal year the log covers, then per fiscal year a headline
    /// panel with the change from the year before, the stage funnel per program, the referrals
    /// between programs as a diagram, a tile map of the 47 prefectures, and tables with totals.
    /// Fits 800 px and 1280 px wide screens and prints on A4.
    /// - Parameter fiscalYear: only this year's section (the trends run up to it, and its
    ///   headline panel still compares with the year before); every year when nil.
    public func html(
        generatedAt: String, fiscalYear: Int? = nil, title: String = "橋渡し・事業化支援人材 活動指標"
    ) -> String {
        let shownYears = fiscalYears.filter { year in fiscalYear.map { year <= $0 } ?? true }
        let sections = fiscalYear.map { year in shownYears.filter { $0 == year } } ?? shownYears
        var page = """
            <!DOCTYPE html>
            <html lang="ja">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(Self.escape(title))</title>
            <style>
            \(Self.styleSheet)
            </style>
            </head>
            <body>
            <header>
            <h1>\(Self.escape(title))</h1>
            <p class="meta">作成日時 \(Self.escape(generatedAt))\(Self.coverage(sections))</p>
            </header>
            <main>
            <p class="rules">\(Self.escape(Self.attributionNote))</p>

            """
        if sections.isEmpty {
            page += "<p>計上できる記録はまだありません。</p>\n"
        } else {
            page += "<nav aria-label=\"目次\"><ul><li><a href=\"#trends\">年度別の推移</a></li>"
            for year in sections.reversed() {
                page += "<li><a href=\"#fy\(year)\">\(year)年度</a></li>"
            }
            page += "</ul></nav>\n"
            page += trendsSection(shownYears)
            for year in sections.reversed() { page += section(year) }
        }
        page += "</main>\n</body>\n</html>\n"
        return page
    }

    private static func coverage(_ years: [Int]) -> String {
        guard let first = years.first, let last = years.last else { return "" }
        return first == last ? "。対象 \(first)年度" : "。対象 \(first)〜\(last)年度"
    }

    static let styleSheet = """
        :root { --ink: #1a202c; --muted: #4a5568; --line: #cbd5e0; --accent: #2b6cb0; --panel: #f7fafc; }
        * { box-sizing: border-box; }
        body { font-family: "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", "Meiryo", sans-serif; margin: 0;
          color: var(--ink); line-height: 1.6; background: #fff; }
        header, main { max-width: 1120px; margin: 0 auto; padding: 0 20px; }
        header { padding-top: 16px; }
        h1 { font-size: 1.5rem; margin: .4em 0 .2em; }
        h2 { font-size: 1.3rem; border-bottom: 3px solid var(--accent); padding-bottom: .15em; margin: 1.8em 0 .6em; }
        h3 { font-size: 1.05rem; margin: 1.4em 0 .4em; }
        p { margin: .4em 0; }
        .meta, .note { color: var(--muted); font-size: .85rem; }
        .rules { font-size: .85rem; background: var(--panel); border-left: 4px solid var(--accent); padding: .6em .9em; }
        nav ul { list-style: none; padding: 0; margin: .8em 0; display: flex; flex-wrap: wrap; gap: .4em 1.2em; }
        nav a { color: var(--accent); }
        .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 10px; margin: .6em 0; }
        .card { border: 1px solid var(--line); border-radius: 6px; padding: .5em .8em; background: var(--panel); }
        .card .label { font-size: .85rem; color: var(--muted); }
        .card .value { font-size: 1.9rem; font-weight: 700; line-height: 1.2; }
        .card .change { font-size: .8rem; color: var(--muted); }
        .up { color: #276749; } .down { color: #9b2c2c; }
        .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 12px 20px; }
        figure { margin: 0; min-width: 0; }
        figure.network { max-width: 640px; }
        figcaption { font-size: .9rem; font-weight: 600; margin-bottom: .2em; overflow-wrap: anywhere; }
        svg { max-width: 100%; height: auto; display: block; }
        svg text { font-family: inherit; }
        .legend { font-size: .8rem; color: var(--muted); display: flex; flex-wrap: wrap; gap: .3em 1em; margin: .3em 0; }
        .swatch { display: inline-block; width: .9em; height: .9em; vertical-align: -.1em; margin-right: .3em;
          border: 1px solid #a0aec0; }
        .table-wrap { max-width: 100%; overflow-x: auto; }
        table { border-collapse: collapse; margin: .4em 0 1em; font-size: .8rem; }
        th, td { border: 1px solid var(--line); padding: .25em .45em; }
        th { background: #edf2f7; word-break: keep-all; overflow-wrap: normal; vertical-align: bottom; font-weight: 600; }
        td.name { min-width: 8em; overflow-wrap: anywhere; }
        td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        tr.total td { font-weight: 700; border-top: 2px solid #718096; background: var(--panel); }
        @media (max-width: 900px) {
          header, main { padding: 0 12px; }
          table { font-size: .72rem; }
          th, td { padding: .2em .3em; }
          .card .value { font-size: 1.6rem; }
        }
        @page { size: A4; margin: 12mm; }
        @media print {
          body { font-size: 9pt; }
          header, main { max-width: none; padding: 0; }
          nav { display: none; }
          section.year { break-before: page; }
          figure, .card, tr, .block { break-inside: avoid; }
          h2, h3 { break-after: avoid; }
          table { font-size: 7pt; }
          th, td { padding: .15em .25em; }
          .table-wrap { overflow: visible; }
          .grid { grid-template-columns: repeat(2, 1fr); }
          .card, .rules, th, tr.total td { -webkit-print-color-adjust: exact; }
        }
        """

    // MARK: - Sections

    private func total(_ year: Int) -> [String: Int]? { totals.first { $0.fiscalYear == year }?.counts }

    /// One small bar chart per headline figure over every fiscal year the log covers.
    private func trendsSection(_ shownYears: [Int]) -> String {
        guard let first = shownYears.first, let last = shownYears.last else { return "" }
        let years = Array(first...last)
        var out = "<section id=\"trends\">\n<h2>年度別の推移</h2>\n"
        out += "<p class=\"note\">全事業の合計（同じ案件・活動を二重に数えない件数）。</p>\n<div class=\"grid\">\n"
        for metric in Self.headlineMetrics {
            let values = years.map { (String($0), total($0)?[metric.rawValue] ?? 0) }
            out += "<figure>\n<figcaption>\(Self.escape(Self.headlineLabel(metric)))</figcaption>\n"
            if values.allSatisfy({ $0.1 == 0 }) {
                out += "<p class=\"note\">どの年度にも記録がありません。</p>\n"
            } else {
                out += Self.columnChart(values, caption: Self.headlineLabel(metric))
            }
            out += "</figure>\n"
        }
        return out + "</div>\n</section>\n"
    }

    private func section(_ year: Int) -> String {
        var out = "<section class=\"year\" id=\"fy\(year)\">\n"
        out += "<h2>\(year)年度（\(year)年4月〜\(year + 1)年3月）</h2>\n"
        out += headline(year)
        out += funnelSection(year)
        out += networkSection(year)
        out += prefectureSection(year)
        out += tables(year)
        return out + "</section>\n"
    }

    /// The headline panel: one card per headline figure with the change from the year before.
    private func headline(_ year: Int) -> String {
        let counts = total(year) ?? [:]
        let previous = total(year - 1)
        var out = "<div class=\"cards\">\n"
        for metric in Self.headlineMetrics {
            let value = counts[metric.rawValue] ?? 0
            var change = "前年度の記録なし"
            var tone = ""
            if let previous {
                let before = previous[metric.rawValue] ?? 0
                let delta = value - before
                change =
                    delta > 0
                    ? "前年度比 ▲\(delta)（前年度 \(before)）"
                    : delta < 0 ? "前年度比 ▼\(-delta)（前年度 \(before)）" : "前年度と同じ（\(before)）"
                tone = delta > 0 ? " up" : delta < 0 ? " down" : ""
            }
            out += "<div class=\"card\"><div class=\"label\">\(Self.escape(Self.headlineLabel(metric)))</div>"
            out += "<div class=\"value\">\(Self.grouped(value))</div>"
            out += "<div class=\"change\(tone)\">\(Self.escape(change))</div></div>\n"
        }
        return out + "</div>\n"
    }

    private func funnelSection(_ year: Int) -> String {
        let shown = funnels.filter { $0.fiscalYear == year && $0.count(.intake) > 0 }.sorted {
            (programs[$0.program]?.ministry ?? "", $0.program) < (programs[$1.program]?.ministry ?? "", $1.program)
        }
        var out = "<h3>段階の進み具合（事業別、年度末時点）</h3>\n"
        out +=
            "<p class=\"note\">年度末までに各段階に達した案件の数。案件は資金を出す事業に数え、完了・中止した案件はそれまでに達した段階まで数える。</p>\n"
        guard !shown.isEmpty else { return out + "<p class=\"note\">この年度末に計上できる案件はありません。</p>\n" }
        out += "<div class=\"grid\">\n"
        for funnel in shown {
            out += "<figure>\n<figcaption>\(Self.escape(programName(funnel.program)))</figcaption>\n"
            out += Self.funnelChart(
                Self.funnelStages.map { ($0.label, funnel.count($0)) },
                color: Self.ministryColor(programs[funnel.program]?.ministry))
            out += "</figure>\n"
        }
        return out + "</div>\n"
    }

    private func networkSection(_ year: Int) -> String {
        let flows = referrals.filter { $0.fiscalYear == year }
        var out = "<h3>事業間の紹介（連携の広がり）</h3>\n"
        guard !flows.isEmpty else { return out + "<p class=\"note\">この年度の事業間の紹介はありません。</p>\n" }
        out = "<div class=\"block\">\n" + out
        out += "<p class=\"note\">矢印は紹介元から紹介先へ。線の太さと数字は紹介件数。</p>\n"
        out += "<figure class=\"network\">\n"
        out += networkDiagram(flows, id: "fy\(year)")
        out += ministryLegend(Set(flows.flatMap { [$0.fromProgram, $0.toProgram] }))
        out += "</figure>\n</div>\n"
        out += "<div class=\"table-wrap\">\n<table>\n<caption class=\"note\">紹介の内訳</caption>\n"
        out += "<thead><tr><th>紹介元</th><th>紹介先</th><th>件数</th></tr></thead>\n<tbody>\n"
        for flow in flows {
            out += "<tr><td class=\"name\">\(Self.escape(programName(flow.fromProgram)))</td>"
            out += "<td class=\"name\">\(Self.escape(programName(flow.toProgram)))</td>"
            out += "<td class=\"n\">\(Self.grouped(flow.count))</td></tr>\n"
        }
        out += "</tbody>\n<tfoot><tr class=\"total\"><td colspan=\"2\">合計</td>"
        out += "<td class=\"n\">\(Self.grouped(flows.map(\.count).reduce(0, +)))</td></tr></tfoot>\n"
        return out + "</table>\n</div>\n"
    }

    private func ministryLegend(_ programIDs: Set<String>) -> String {
        let ministries = Set(programIDs.map { programs[$0]?.ministry ?? "other" })
        var out = "<div class=\"legend\">"
        for ministry in Domains.ministry.values where ministries.contains(ministry) {
            out += "<span><span class=\"swatch\" style=\"background:\(Self.ministryColor(ministry))\"></span>"
            out += "\(Self.escape(Domains.ministry.label(of: ministry) ?? ministry))</span>"
        }
        return out + "</div>\n"
    }

    private func prefectureSection(_ year: Int) -> String {
        var activity: [String: Int] = [:]
        var unknown = 0
        for row in rows where row.fiscalYear == year {
            let count = Metric.activity.map { row.count($0) }.reduce(0, +)
            if let prefecture = row.prefecture { activity[prefecture, default: 0] += count } else { unknown += count }
        }
        var out = "<div class=\"block\">\n<h3>都道府県別の活動</h3>\n"
        out += "<p class=\"note\">相談・訪問・マッチング・試作・契約・ライセンス・補助金等・製品化・広報の件数の合計。"
        out += unknown > 0 ? "所在地が不明の案件の活動 \(Self.grouped(unknown)) 件は地図に含まない。</p>\n" : "</p>\n"
        out += "<figure>\n" + Self.tileMap(activity) + "</figure>\n</div>\n"
        return out
    }

    /// The program tables: activity with a totals row, then the stages at year end.
    private func tables(_ year: Int) -> String {
        let byProgram = programTotals(fiscalYear: year)
        let counts = total(year) ?? [:]
        let activity = Metric.activity + [.newCases, .closedCases, .referralsOut, .referralsIn]
        let stages = Metric.allCases.filter { $0.stage != nil }
        var out = "<h3>事業別の指標</h3>\n"
        out += table(byProgram, metrics: activity, totals: counts, headers: Self.wrappedLabel)
        out += "<h3>年度末の段階別の案件数</h3>\n"
        out += table(byProgram, metrics: stages, totals: counts) {
            Self.wrappedLabel($0.stage?.label ?? $0.label)
        }
        return out
    }

    private func table(
        _ byProgram: [(program: String, counts: [Metric: Int])], metrics: [Metric], totals: [String: Int],
        headers: (Metric) -> String
    ) -> String {
        var out = "<div class=\"table-wrap\">\n<table>\n<thead><tr><th>事業</th><th>所管</th>"
        out += metrics.map { "<th>\(headers($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for (program, counts) in byProgram {
            let ministry = programs[program]?.ministry ?? "other"
            out += "<tr><td class=\"name\">\(Self.escape(programName(program)))</td>"
            out += "<td class=\"name\">\(Self.escape(Domains.ministry.label(of: ministry) ?? ministry))</td>"
            out += metrics.map { "<td class=\"n\">\(Self.grouped(counts[$0] ?? 0))</td>" }.joined() + "</tr>\n"
        }
        out += "</tbody>\n<tfoot><tr class=\"total\"><td colspan=\"2\">合計</td>"
        out += metrics.map { "<td class=\"n\">\(Self.grouped(totals[$0.rawValue] ?? 0))</td>" }.joined()
        return out + "</tr></tfoot>\n</table>\n</div>\n"
    }

    private static func wrappedLabel(_ metric: Metric) -> String { wrappedLabel(metric.label) }

    /// A header that breaks only where a reader would: after 他事業, between 年度末 and the
    /// stage, after a middle dot (headers never wrap one character per line).
    static func wrappedLabel(_ label: String) -> String {
        var text = escape(label)
        for (from, to) in [
            ("他事業への", "他事業<wbr>への"), ("他事業からの", "他事業<wbr>からの"), ("新規案件", "新規<wbr>案件"),
            ("終了案件", "終了<wbr>案件"), ("・", "・<wbr>"), ("フォローアップ", "フォロー<wbr>アップ"),
            ("課題発掘", "課題<wbr>発掘"),
        ] {
            text = text.replacingOccurrences(of: from, with: to)
        }
        return text
    }

    // MARK: - Charts

    /// Vertical bars, one per fiscal year, each with its figure above it.
    static func columnChart(_ bars: [(label: String, value: Int)], caption: String) -> String {
        let barWidth = 36
        let gap = 18
        let chartHeight = 110
        let width = max(220, 30 + bars.count * (barWidth + gap))
        let height = chartHeight + 50
        let largest = max(1, bars.map(\.value).max() ?? 1)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(width) \(height)\" "
        svg += "width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"\(escape(caption))の年度別推移\" "
        svg += "font-size=\"12\">\n"
        let base = chartHeight + 20
        svg += "<line x1=\"10\" y1=\"\(base)\" x2=\"\(width - 10)\" y2=\"\(base)\" stroke=\"#a0aec0\"/>\n"
        for (index, bar) in bars.enumerated() {
            let x = 20 + index * (barWidth + gap)
            let barHeight = bar.value == 0 ? 0 : max(2, bar.value * chartHeight / largest)
            svg += "<rect class=\"mark\" x=\"\(x)\" y=\"\(base - barHeight)\" width=\"\(barWidth)\" "
            svg += "height=\"\(barHeight)\" fill=\"#2b6cb0\"><title>\(escape(bar.label))年度 \(bar.value)</title></rect>"
            svg += "<text x=\"\(x + barWidth / 2)\" y=\"\(base - barHeight - 4)\" text-anchor=\"middle\">"
            svg += "\(grouped(bar.value))</text>"
            svg += "<text x=\"\(x + barWidth / 2)\" y=\"\(base + 16)\" text-anchor=\"middle\" fill=\"#4a5568\">"
            svg += "\(escape(bar.label))</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// A funnel: one centred bar per stage, as wide as its share of the cases at intake, with
    /// the count and that share beside it.
    static func funnelChart(_ stages: [(label: String, value: Int)], color: String) -> String {
        let labelWidth = 112
        let area = 190
        let rowHeight = 26
        let width = labelWidth + area + 90
        let height = stages.count * rowHeight + 6
        let top = max(1, stages.first?.value ?? 1)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" "
        svg += "height=\"\(height)\" role=\"img\" aria-label=\"段階別の案件数\" font-size=\"12\">\n"
        for (index, stage) in stages.enumerated() {
            let y = 3 + index * rowHeight
            let barWidth = stage.value == 0 ? 0 : max(3, stage.value * area / top)
            let x = labelWidth + (area - barWidth) / 2
            let share = stage.value * 100 / top
            svg += "<text x=\"\(labelWidth - 8)\" y=\"\(y + 16)\" text-anchor=\"end\">\(escape(stage.label))</text>"
            if barWidth > 0 {
                svg +=
                    "<rect class=\"mark\" x=\"\(x)\" y=\"\(y + 2)\" width=\"\(barWidth)\" height=\"\(rowHeight - 6)\" "
                svg += "rx=\"3\" fill=\"\(color)\"><title>\(escape(stage.label)) \(stage.value)</title></rect>"
            }
            svg += "<text x=\"\(labelWidth + area + 8)\" y=\"\(y + 16)\">\(grouped(stage.value))"
            svg += index == 0 ? "" : "（\(share)%）"
            svg += "</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// The referrals between programs as a directed graph: programs on a circle (coloured by
    /// ministry), an arrow per (from, to) pair as thick as its count, with the count on it.
    private func networkDiagram(_ flows: [Referral], id: String) -> String {
        let nodes = Set(flows.flatMap { [$0.fromProgram, $0.toProgram] }).sorted {
            (programs[$0]?.ministry ?? "", $0) < (programs[$1]?.ministry ?? "", $1)
        }
        let width = 640.0
        let height = nodes.count <= 2 ? 150.0 : 460.0
        let centerX = width / 2
        let centerY = nodes.count <= 2 ? 90.0 : height / 2
        let radius = nodes.count <= 2 ? 140.0 : 165.0
        let nodeRadius = 16.0
        var position: [String: (x: Double, y: Double, angle: Double)] = [:]
        for (index, node) in nodes.enumerated() {
            // Two programs side by side; more around a circle starting at the top.
            let angle =
                nodes.count <= 2
                ? Double.pi * Double(index)
                : -Double.pi / 2 + 2 * Double.pi * Double(index) / Double(nodes.count)
            position[node] = (centerX + radius * cos(angle), centerY + radius * sin(angle), angle)
        }
        let largest = Double(max(1, flows.map(\.count).max() ?? 1))
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" "
        svg +=
            "width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"事業間の紹介の図\" font-size=\"12\">\n"
        svg += "<defs><marker id=\"arrow-\(id)\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"12\" "
        svg +=
            "markerHeight=\"12\" markerUnits=\"userSpaceOnUse\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#4a5568\"/>"
        svg += "</marker></defs>\n"
        for flow in flows {
            guard let from = position[flow.fromProgram], let to = position[flow.toProgram] else { continue }
            let dx = to.x - from.x
            let dy = to.y - from.y
            let length = max(1, (dx * dx + dy * dy).squareRoot())
            // Bend each arrow to its left, so A→B and B→A are two arrows.
            let normalX = -dy / length
            let normalY = dx / length
            let bend = min(40, length / 5)
            let controlX = (from.x + to.x) / 2 + normalX * bend
            let controlY = (from.y + to.y) / 2 + normalY * bend
            func shorten(_ point: (x: Double, y: Double), toward target: (x: Double, y: Double)) -> (Double, Double) {
                let ux = target.x - point.x
                let uy = target.y - point.y
                let norm = max(1, (ux * ux + uy * uy).squareRoot())
                return (point.x + ux / norm * (nodeRadius + 3), point.y + uy / norm * (nodeRadius + 3))
            }
            let start = shorten((from.x, from.y), toward: (controlX, controlY))
            let end = shorten((to.x, to.y), toward: (controlX, controlY))
            let stroke = 1.5 + 6 * Double(flow.count) / largest
            let label = "\(programName(flow.fromProgram)) → \(programName(flow.toProgram)) \(flow.count)件"
            svg += "<path class=\"mark\" d=\"M\(Self.f(start.0)),\(Self.f(start.1)) Q\(Self.f(controlX)),"
            svg += "\(Self.f(controlY)) \(Self.f(end.0)),\(Self.f(end.1))\" fill=\"none\" stroke=\"#718096\" "
            svg +=
                "stroke-width=\"\(Self.f(stroke))\" marker-end=\"url(#arrow-\(id))\"><title>\(Self.escape(label))</title></path>"
            // The count at the curve's midpoint.
            let midX = 0.25 * from.x + 0.5 * controlX + 0.25 * to.x
            let midY = 0.25 * from.y + 0.5 * controlY + 0.25 * to.y
            let number = Self.grouped(flow.count)
            let boxWidth = Double(number.count) * 8.5 + 8
            svg += "<rect x=\"\(Self.f(midX - boxWidth / 2))\" y=\"\(Self.f(midY - 9))\" width=\"\(Self.f(boxWidth))\" "
            svg += "height=\"18\" rx=\"4\" fill=\"#fff\" stroke=\"#cbd5e0\"/>"
            svg += "<text x=\"\(Self.f(midX))\" y=\"\(Self.f(midY + 5))\" text-anchor=\"middle\" font-weight=\"700\" "
            svg += "font-size=\"14\">\(number)</text>\n"
        }
        for node in nodes {
            guard let point = position[node] else { continue }
            let color = Self.ministryColor(programs[node]?.ministry)
            svg +=
                "<circle class=\"mark\" cx=\"\(Self.f(point.x))\" cy=\"\(Self.f(point.y))\" r=\"\(Int(nodeRadius))\" "
            svg += "fill=\"\(color)\"><title>\(Self.escape(programName(node)))</title></circle>"
            // The name outside the circle, on one or two lines.
            let cosine = cos(point.angle)
            let sine = sin(point.angle)
            let anchor = cosine > 0.3 ? "start" : cosine < -0.3 ? "end" : "middle"
            let labelX = point.x + cosine * (nodeRadius + 6)
            let lines = Self.splitName(programName(node))
            let firstY =
                sine < -0.3
                ? point.y - nodeRadius - 8 - Double(lines.count - 1) * 14
                : sine > 0.3 ? point.y + nodeRadius + 16 : point.y + 4 - Double(lines.count - 1) * 7
            svg += "<text x=\"\(Self.f(labelX))\" y=\"\(Self.f(firstY))\" text-anchor=\"\(anchor)\">"
            for (index, line) in lines.enumerated() {
                svg += "<tspan x=\"\(Self.f(labelX))\" dy=\"\(index == 0 ? 0 : 14)\">\(Self.escape(line))</tspan>"
            }
            svg += "</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// A program's name in lines of at most 11 characters (two lines; longer names end in …).
    static func splitName(_ name: String) -> [String] {
        let characters = Array(name)
        let size = 11
        guard characters.count > size else { return [name] }
        let first = String(characters[..<size])
        let rest = characters[size...]
        let second = rest.count > size ? String(rest.prefix(size - 1)) + "…" : String(rest)
        return [first, second]
    }

    // MARK: - Prefecture tile map

    /// Each prefecture's tile (column, row) on a 13 × 12 grid, by its Japanese name.
    static let tiles: [String: (column: Int, row: Int)] = [
        "北海道": (12, 0), "青森県": (12, 2), "秋田県": (11, 3), "岩手県": (12, 3), "山形県": (11, 4), "宮城県": (12, 4),
        "石川県": (8, 5), "富山県": (9, 5), "新潟県": (10, 5), "福島県": (11, 5),
        "島根県": (3, 6), "鳥取県": (4, 6), "兵庫県": (5, 6), "京都府": (6, 6), "福井県": (7, 6), "岐阜県": (8, 6),
        "長野県": (9, 6), "群馬県": (10, 6), "栃木県": (11, 6), "茨城県": (12, 6),
        "佐賀県": (0, 7), "福岡県": (1, 7), "山口県": (2, 7), "広島県": (3, 7), "岡山県": (4, 7), "大阪府": (5, 7),
        "奈良県": (6, 7), "滋賀県": (7, 7), "愛知県": (8, 7), "山梨県": (9, 7), "埼玉県": (10, 7), "東京都": (11, 7),
        "千葉県": (12, 7),
        "長崎県": (0, 8), "熊本県": (1, 8), "大分県": (2, 8), "愛媛県": (3, 8), "香川県": (4, 8), "和歌山県": (5, 8),
        "三重県": (7, 8), "静岡県": (9, 8), "神奈川県": (10, 8),
        "鹿児島県": (1, 9), "宮崎県": (2, 9), "高知県": (3, 9), "徳島県": (4, 9),
        "沖縄県": (0, 11),
    ]

    static let tilePalette = ["#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c"]

    /// The 47 prefectures as tiles coloured by activity in five steps of the largest count, with
    /// the count on each tile and a legend.
    static func tileMap(_ activity: [String: Int]) -> String {
        let size = 46
        let gap = 3
        let width = 13 * (size + gap) + 10
        let height = 12 * (size + gap) + 10
        let largest = max(1, activity.values.max() ?? 1)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" "
        svg += "height=\"\(height)\" role=\"img\" aria-label=\"都道府県別の活動件数の地図\" font-size=\"11\">\n"
        for prefecture in Domains.prefecture.values {
            guard let name = Domains.prefecture.label(of: prefecture), let tile = tiles[name] else { continue }
            let count = activity[prefecture] ?? 0
            let step = count == 0 ? -1 : min(4, (count * 5 - 1) / largest)
            let fill = step < 0 ? "#edf2f7" : tilePalette[step]
            let ink = step >= 3 ? "#fff" : "#1a202c"
            let x = 5 + tile.column * (size + gap)
            let y = 5 + tile.row * (size + gap)
            let short = name == "北海道" ? name : String(name.dropLast())
            svg += "<rect class=\"mark\" x=\"\(x)\" y=\"\(y)\" width=\"\(size)\" height=\"\(size)\" rx=\"4\" "
            svg +=
                "fill=\"\(fill)\" stroke=\"#a0aec0\" stroke-width=\"0.5\"><title>\(escape(name)) \(count)</title></rect>"
            svg +=
                "<text x=\"\(x + size / 2)\" y=\"\(y + 19)\" text-anchor=\"middle\" fill=\"\(ink)\">\(escape(short))</text>"
            if count > 0 {
                svg += "<text x=\"\(x + size / 2)\" y=\"\(y + 36)\" text-anchor=\"middle\" font-weight=\"700\" "
                svg += "fill=\"\(ink)\">\(grouped(count))</text>"
            }
            svg += "\n"
        }
        // The legend in the empty south-east corner.
        let legendX = 5 + 6 * (size + gap)
        let legendY = 5 + 10 * (size + gap)
        svg += "<text x=\"\(legendX)\" y=\"\(legendY + 10)\">活動件数</text>\n"
        let steps =
            [(-1, "0")] + (0..<5).map { step in (step, legendRange(step, largest: largest)) }.filter { $0.1 != "—" }
        for (index, entry) in steps.enumerated() {
            let x = legendX + index * 56
            let fill = entry.0 < 0 ? "#edf2f7" : tilePalette[entry.0]
            svg +=
                "<rect x=\"\(x)\" y=\"\(legendY + 18)\" width=\"14\" height=\"14\" fill=\"\(fill)\" stroke=\"#a0aec0\" "
            svg +=
                "stroke-width=\"0.5\"/><text x=\"\(x + 18)\" y=\"\(legendY + 30)\" font-size=\"10\">\(entry.1)</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// The counts that fall into a colour step of the tile map.
    static func legendRange(_ step: Int, largest: Int) -> String {
        // step = (count * 5 - 1) / largest, so step s holds counts in (s·L/5, (s+1)·L/5].
        let low = step * largest / 5 + 1
        let high = (step + 1) * largest / 5
        guard high >= low else { return "—" }
        return low == high ? grouped(low) : "\(grouped(low))–\(grouped(high))"
    }

    // MARK: - Helpers

    static func ministryColor(_ ministry: String?) -> String {
        switch ministry {
        case "meti": "#2b6cb0"
        case "mext": "#2f855a"
        case "cao": "#b7791f"
        default: "#718096"
        }
    }

    /// 12,345.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return value < 0 ? "-" + out : out
    }

    /// A coordinate with one decimal.
    static func f(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        return "\(sign)\(abs(tenths) / 10).\(abs(tenths) % 10)"
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
