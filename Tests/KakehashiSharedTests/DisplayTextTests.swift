import KakehashiShared
import Testing

/// Terminal widths, tables that fit, and closed values as people type them.
@Suite struct DisplayTextTests {
    @Test(arguments: [
        ("A", 1), ("ｱ", 1), ("ア", 2), ("Ａ", 2), ("　", 2), ("漢", 2), ("한", 2), ("…", 1), ("①", 1),
        ("e\u{301}", 1), ("\u{200B}", 0), ("👍", 2), ("☺\u{FE0F}", 2), ("𠮷", 2), ("ｰ", 1), ("ー", 2),
    ])
    func eastAsianWidth(character: String, columns: Int) {
        #expect(DisplayWidth.of(character) == columns, "\(character.unicodeScalars.map { $0.value })")
    }

    @Test func truncationCutsByDisplayWidthAndNeverInsideALatinWord() {
        let cut = DisplayWidth.truncate("Kawasaki Precision Manufacturing", to: 22)
        #expect(cut == "Kawasaki Precision…")
        #expect(DisplayWidth.truncate("精密加工技術の試作マッチング", to: 16) == "精密加工技術の…")
        #expect(DisplayWidth.of(DisplayWidth.truncate("精密加工技術の試作マッチング", to: 15)) <= 15)
        // A word wider than the cell is cut: there is no other way.
        #expect(DisplayWidth.truncate("Supercalifragilistic", to: 8) == "Superca…")
        #expect(DisplayWidth.truncate("短い", to: 10) == "短い")
    }

    @Test func wrappingKeepsJapaneseLineBreakRules() {
        let lines = DisplayWidth.wrap("工場を訪問し、加工設備と品質管理の体制を確認した。「試作」の日程も決めた。", to: 14)
        for line in lines {
            #expect(DisplayWidth.of(line) <= 14, "\(line)")
            #expect(!["、", "。", "」"].contains(line.first.map(String.init) ?? ""), "\(lines)")
            #expect(line.last != "「", "\(lines)")
        }
        #expect(lines.joined() == "工場を訪問し、加工設備と品質管理の体制を確認した。「試作」の日程も決めた。")
        let english = DisplayWidth.wrap("default: $KAKEHASHI_HOME, else $XDG_DATA_HOME/kakehashi", to: 30)
        #expect(english.contains("$XDG_DATA_HOME/kakehashi"), "\(english)")
        let usage =
            "[--max-connections <max-connections>] [--max-unauthenticated-body <max-unauthenticated-body>] [--x]"
        let usageLines = DisplayWidth.wrap(usage, to: 73)
        #expect(usageLines.allSatisfy { !$0.hasSuffix("-bod") && !$0.hasSuffix("<") }, "\(usageLines)")
        let serve =
            "USAGE: kakehashi-server serve [--db <db>] [--host <host>] [--port <port>] [--tls-cert <tls-cert>] "
            + "[--tls-key <tls-key>] [--header-timeout <header-timeout>] [--idle-timeout <idle-timeout>] "
            + "[--body-timeout <body-timeout>] [--min-body-rate <min-body-rate>] [--max-connections "
            + "<max-connections>] [--max-unauthenticated-body <max-unauthenticated-body>] "
            + "[--min-client-version <min-client-version>]"
        let help = HelpText.rewrap(serve, width: 80)
        #expect(!help.contains("-bod\n"), "\(help)")
        // The same line where a closing bracket falls at the edge (`body>]`): no split word either.
        for width in 60...90 {
            let lines = HelpText.rewrap(serve, width: width).split(separator: "\n")
            #expect(lines.allSatisfy { DisplayWidth.of(String($0)) <= width }, "\(lines)")
            #expect(!lines.contains { $0.hasSuffix("-bod") || $0.hasSuffix("-timeou") }, "width \(width): \(lines)")
        }
    }

    @Test func aTableFitsItsWidthShorteningTextBeforeKeptColumnsAndNeverFixedOnes() {
        var table = TextTable(headers: ["ID", "件名", "種別", "担当者"])
        table.width = 50
        table.fixedColumns = [0]
        table.keptColumns = [2]
        table.append(["3fa9c2e1b0", "精密加工技術を活用した医療機器部品の試作マッチング", "知財ビジネスマッチング", "山田太郎"])
        table.append(["9e4f0a1b2c", "IoT monitoring", "相談", "佐藤花子"])
        let lines = table.render().split(separator: "\n").map(String.init)
        #expect(lines.allSatisfy { DisplayWidth.of($0) <= 50 }, "\(lines)")
        #expect(lines[1].hasPrefix("3fa9c2e1b0  精密加工"), "\(lines)")
        #expect(lines[1].contains("…"))
        // Closed values give way only after text, and never inside a Latin word.
        #expect(lines[2].contains("IoT…") && !lines[2].contains("mon"), "\(lines)")
        // Wide enough: nothing is cut.
        table.width = 200
        #expect(table.render().contains("精密加工技術を活用した医療機器部品の試作マッチング"))
    }

    @Test func prefecturesAcceptShortFormsAndSuggestTheClosest() throws {
        let prefecture = Domains.prefecture
        #expect(prefecture.canonical("東京") == "tokyo")
        #expect(prefecture.canonical("大阪") == "osaka")
        #expect(prefecture.canonical("京都") == "kyoto")
        #expect(prefecture.canonical("神奈川") == "kanagawa")
        #expect(prefecture.canonical("北海道") == "hokkaido")
        #expect(prefecture.canonical("ＴＯＫＹＯ") == "tokyo")
        #expect(prefecture.canonical("火星") == nil)
        #expect(prefecture.closest(to: "kanagwa")?.value == "kanagawa")
        #expect(prefecture.closest(to: "神奈河県")?.value == "kanagawa")
        #expect(prefecture.closest(to: "火星") == nil)
        // Only 都府県 are dropped: a stage label is not matched by its first character.
        #expect(Domains.caseStage.canonical("受") == nil)
        let message = prefecture.unknownValueMessage("神奈河県")
        #expect(message.contains("神奈川県") && !message.contains("沖縄県"), "\(message)")
    }
}
