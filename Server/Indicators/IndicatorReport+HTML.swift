import KakehashiShared

extension IndicatorReport {
    /// A self-contained HTML report (no scripts, no external files): per fiscal year, the totals,
    /// one SVG bar chart of activity per program, a table of every figure, and the referrals
    /// between programs. Opens offline in any browser.
    public func html(generatedAt: String, title: String = "橋渡し・事業化支援人材 活動指標") -> String {
        var page = """
            <!DOCTYPE html>
            <html lang="ja">
            <head>
            <meta charset="utf-8">
            <title>\(Self.escape(title))</title>
            <style>
            body { font-family: "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", sans-serif; margin: 2em; color: #222; }
            h1 { font-size: 1.5em; } h2 { border-bottom: 2px solid #2b6cb0; padding-bottom: .2em; margin-top: 2em; }
            h3 { font-size: 1.05em; margin: 1.2em 0 .3em; }
            table { border-collapse: collapse; margin: .5em 0 1em; font-size: .9em; }
            th, td { border: 1px solid #ccc; padding: .25em .6em; } td.n { text-align: right; }
            th { background: #edf2f7; } .charts { display: flex; flex-wrap: wrap; gap: 1.5em; }
            .note { color: #555; font-size: .85em; }
            </style>
            </head>
            <body>
            <h1>\(Self.escape(title))</h1>
            <p class="note">作成日時 \(Self.escape(generatedAt))。年度は4月1日から翌年3月31日（日本時間）。活動は記録者の事業に、案件は資金提供事業に計上し、合計では同じ案件を二重に数えない。</p>

            """
        if fiscalYears.isEmpty { page += "<p>計上できる記録はまだありません。</p>\n" }
        for year in fiscalYears.reversed() {
            page += section(year)
        }
        page += "</body>\n</html>\n"
        return page
    }

    private func section(_ year: Int) -> String {
        var out = "<section>\n<h2>\(year)年度（\(year)年4月〜\(year + 1)年3月）</h2>\n"
        if let total = totals.first(where: { $0.fiscalYear == year }) {
            out += "<h3>全事業の合計</h3>\n<table><tr>"
            out += Metric.allCases.filter { $0.stage == nil }.map { "<th>\(Self.escape($0.label))</th>" }.joined()
            out += "</tr><tr>"
            out += Metric.allCases.filter { $0.stage == nil }.map {
                "<td class=\"n\">\(total.counts[$0.rawValue] ?? 0)</td>"
            }.joined()
            out += "</tr></table>\n"
        }
        let programs = programTotals(fiscalYear: year)
        // One scale for the whole year, so programs' bars compare at a glance.
        let largest = programs.flatMap { program in Metric.activity.map { program.counts[$0] ?? 0 } }.max() ?? 1
        out += "<div class=\"charts\">\n"
        for (program, counts) in programs {
            out += "<figure>\n<figcaption>\(Self.escape(programName(program)))</figcaption>\n"
            out += Self.barChart(Metric.activity.map { ($0.label, counts[$0] ?? 0) }, scale: largest)
            out += "</figure>\n"
        }
        out += "</div>\n<h3>事業別の指標</h3>\n<table>\n<tr><th>事業</th>"
        out += Metric.allCases.map { "<th>\(Self.escape($0.label))</th>" }.joined() + "</tr>\n"
        for (program, counts) in programs {
            out += "<tr><td>\(Self.escape(programName(program)))</td>"
            out += Metric.allCases.map { "<td class=\"n\">\(counts[$0] ?? 0)</td>" }.joined() + "</tr>\n"
        }
        out += "</table>\n"
        let flows = referrals.filter { $0.fiscalYear == year }
        out += "<h3>事業間の紹介（連携の指標）</h3>\n"
        if flows.isEmpty {
            out += "<p class=\"note\">この年度の事業間の紹介はありません。</p>\n"
        } else {
            out += "<table>\n<tr><th>紹介元</th><th>紹介先</th><th>件数</th></tr>\n"
            for flow in flows {
                out += "<tr><td>\(Self.escape(programName(flow.fromProgram)))</td>"
                out += "<td>\(Self.escape(programName(flow.toProgram)))</td><td class=\"n\">\(flow.count)</td></tr>\n"
            }
            out += "</table>\n"
        }
        return out + "</section>\n"
    }

    /// A horizontal bar chart as inline SVG, with each bar's figure written beside it.
    /// - Parameter scale: the value a full-length bar stands for.
    static func barChart(_ bars: [(label: String, value: Int)], scale: Int) -> String {
        let labelWidth = 90
        let barArea = 260
        let rowHeight = 22
        let height = bars.count * rowHeight + 8
        let largest = max(1, scale, bars.map(\.value).max() ?? 1)
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(labelWidth + barArea + 50)" height="\(height)" \
            role="img" font-size="12">

            """
        for (index, bar) in bars.enumerated() {
            let y = 4 + index * rowHeight
            let width = bar.value == 0 ? 0 : max(2, bar.value * barArea / largest)
            svg += "<text x=\"\(labelWidth - 6)\" y=\"\(y + 14)\" text-anchor=\"end\">\(escape(bar.label))</text>"
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y + 3)\" width=\"\(width)\" height=\"14\" fill=\"#2b6cb0\">"
            svg += "<title>\(escape(bar.label)) \(bar.value)</title></rect>"
            svg += "<text x=\"\(labelWidth + width + 4)\" y=\"\(y + 14)\">\(bar.value)</text>\n"
        }
        return svg + "</svg>\n"
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
