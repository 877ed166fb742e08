/// Terminal column widths of text, so tables line up when they mix Japanese full-width and
/// ASCII characters: Unicode East Asian Width W and F take two columns, marks and format
/// characters none, everything else (ambiguous characters included) one.
public enum DisplayWidth {
    public static func of(_ text: String) -> Int {
        text.reduce(0) { $0 + of($1) }
    }

    public static func of(_ character: Character) -> Int {
        guard let scalar = character.unicodeScalars.first else { return 0 }
        let value = scalar.value
        if value < 0x20 || (0x7F..<0xA0).contains(value) { return 0 }
        if contains(wide, value) { return 2 }
        // An emoji presentation selector makes a narrow pictograph take two columns.
        if character.unicodeScalars.contains(where: { $0.value == 0xFE0F }) { return 2 }
        if contains(zero, value) { return 0 }
        return 1
    }

    /// Whether `value` lies in one of the sorted `[first, last, first, last, …]` ranges.
    static func contains(_ ranges: [UInt32], _ value: UInt32) -> Bool {
        var low = 0
        var high = ranges.count / 2 - 1
        while low <= high {
            let middle = (low + high) / 2
            if value < ranges[2 * middle] {
                high = middle - 1
            } else if value > ranges[2 * middle + 1] {
                low = middle + 1
            } else {
                return true
            }
        }
        return false
    }

    /// What a line may or may not be broken next to.
    enum Run: Equatable {
        case space, latin, kanji, katakana, hiragana, other
    }

    static func run(_ character: Character) -> Run {
        if character.isWhitespace { return .space }
        guard let value = character.unicodeScalars.first?.value else { return .other }
        switch value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x2F, 0x27, 0x40, 0x23, 0x24: return .latin
        case 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x3005, 0x20000...0x3FFFD: return .kanji
        case 0x30A1...0x30FA, 0x30FC...0x30FF, 0x31F0...0x31FF, 0xFF66...0xFF9F: return .katakana
        case 0x3041...0x309F: return .hiragana
        default: return .other
        }
    }

    /// Characters that may not start a line (Japanese kinsoku: closing brackets, punctuation,
    /// small kana, the long-vowel mark).
    static let noLineStart: Set<Character> = Set(
        "、。，．,.)）」』】〕〉》］｝ー〜～…‥・：；:;!?！？ゃゅょっぁぃぅぇぉゎャュョッァィゥェォヮヵヶ％%]>")
    /// Characters that may not end a line (opening brackets).
    static let noLineEnd: Set<Character> = Set("(（「『【〔〈《［｛[<")

    /// `text` cut to at most `width` columns, ending in "…" when something was cut. The cut
    /// never falls inside a word of Latin letters or digits unless the word alone is wider than
    /// `width`, and moves back to the start of a katakana or kanji word when little is lost.
    public static func truncate(_ text: String, to width: Int) -> String {
        guard of(text) > width else { return text }
        guard width > 1 else { return width == 1 ? "…" : "" }
        let characters = Array(text)
        let end = prefixLength(characters, from: 0, width: width - 1)
        let cut = wordStart(characters, from: 0, before: end, budget: width - 1) ?? end
        var kept = String(characters[0..<cut])
        while kept.last?.isWhitespace == true { kept.removeLast() }
        return kept + "…"
    }

    /// How many characters of `characters[start...]` fit in `width` columns.
    static func prefixLength(_ characters: [Character], from start: Int, width: Int) -> Int {
        var used = 0
        var index = start
        while index < characters.count {
            let next = of(characters[index])
            if used + next > width { break }
            used += next
            index += 1
        }
        return index
    }

    /// Where to end a piece that may take `characters[start..<end]` so that no word is split:
    /// the start of the word `end` falls in, or nil to cut at `end`.
    static func wordStart(_ characters: [Character], from start: Int, before end: Int, budget: Int) -> Int? {
        guard end > start, end < characters.count else { return nil }
        let kind = run(characters[end])
        guard kind != .space, kind != .other, run(characters[end - 1]) == kind else { return nil }
        var wordStart = end - 1
        while wordStart > start, run(characters[wordStart - 1]) == kind { wordStart -= 1 }
        guard wordStart > start else { return nil }
        // Latin words are never split; Japanese words only when backing off would waste a third.
        if kind == .latin { return wordStart }
        let keptWidth = of(String(characters[start..<wordStart]))
        return keptWidth * 3 >= budget * 2 ? wordStart : nil
    }

    /// `text` broken into lines of at most `width` columns: at spaces, between Japanese
    /// characters (never before closing punctuation or the long-vowel mark, never after an
    /// opening bracket), never inside a Latin word unless the word alone is wider than `width`.
    /// Line breaks in `text` are kept.
    public static func wrap(_ text: String, to width: Int) -> [String] {
        guard width > 0 else { return [text] }
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let characters = Array(paragraph)
            var start = 0
            if characters.isEmpty { lines.append("") }
            while start < characters.count {
                var end = prefixLength(characters, from: start, width: width)
                if end == start { end = start + 1 }  // a character wider than the line
                if end < characters.count {
                    // Back off out of a word and past line-break rules until both hold: moving
                    // before a closing bracket can land inside a word again (`body>]`).
                    for _ in 0..<4 {
                        let before = end
                        if let word = wordStart(characters, from: start, before: end, budget: width) { end = word }
                        var moved = 0
                        while end - start > 1, moved < 3,
                            noLineStart.contains(characters[end]) || noLineEnd.contains(characters[end - 1])
                        {
                            end -= 1
                            moved += 1
                        }
                        if end == before { break }
                    }
                }
                var line = String(characters[start..<end])
                while line.last?.isWhitespace == true { line.removeLast() }
                lines.append(line)
                start = end
                while start < characters.count, characters[start] == " " { start += 1 }
            }
        }
        return lines
    }

    /// `text` followed by spaces up to `width` columns.
    public static func pad(_ text: String, to width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - of(text)))
    }
}

/// A plain-text table whose columns align in a terminal, Japanese text included.
///
/// With a `width` (the terminal's), the table fits it: the widest shortenable columns give up
/// columns first, their cells shortened by display width with "…" (or, with `wrapsCells`,
/// wrapped onto more lines). Without one, cells are cut at `maxColumnWidth`.
public struct TextTable: Sendable {
    public let headers: [String]
    public private(set) var rows: [[String]] = []
    /// Cells wider than this are truncated with "…" when the table has no `width`.
    public var maxColumnWidth = 48
    /// The width to fit in columns; nil: no limit but `maxColumnWidth`.
    public var width: Int?
    /// Columns never shortened (ids, dates, numbers).
    public var fixedColumns: Set<Int> = []
    /// Columns shortened only when shortening the others is not enough (closed values, names).
    public var keptColumns: Set<Int> = []
    /// Wrap shortened cells onto more lines instead of cutting them (detail views).
    public var wrapsCells = false

    /// Columns between two cells.
    static let gap = 2
    /// Fewest columns a shortened text column keeps while others can still give.
    static let comfortableMinimum = 10

    public init(headers: [String]) { self.headers = headers }

    /// A table of `rows` under `header`, rendered in one call.
    public static func render(header: [String], rows: [[String]]) -> String {
        var table = TextTable(headers: header)
        for row in rows { table.append(row) }
        return table.render()
    }

    public mutating func append(_ row: [String]) {
        rows.append(row)
    }

    public func render() -> String {
        let count = headers.count
        let cells = ([headers] + rows).map { row in
            (0..<count).map { index in
                let cell = index < row.count ? row[index] : ""
                return wrapsCells ? cell : cell.replacingOccurrences(of: "\n", with: " ")
            }
        }
        let widths = columnWidths(cells)
        var lines: [String] = []
        for row in cells {
            let pieces: [[String]] = row.enumerated().map { index, cell in
                let columnWidth = widths[index]
                if wrapsCells, DisplayWidth.of(cell) > columnWidth || cell.contains("\n") {
                    return DisplayWidth.wrap(cell, to: columnWidth)
                }
                return [DisplayWidth.truncate(cell, to: columnWidth)]
            }
            let height = pieces.map(\.count).max() ?? 1
            for line in 0..<height {
                var text = ""
                for (index, piece) in pieces.enumerated() {
                    let cell = line < piece.count ? piece[line] : ""
                    text += index == count - 1 ? cell : DisplayWidth.pad(cell, to: widths[index]) + "  "
                }
                while text.last == " " { text.removeLast() }
                if let width, DisplayWidth.of(text) > width { text = DisplayWidth.truncate(text, to: width) }
                lines.append(text)
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Each column's width: what its widest cell needs, shortened to fit `width` if set.
    func columnWidths(_ cells: [[String]]) -> [Int] {
        let count = headers.count
        var natural = Array(repeating: 0, count: count)
        for row in cells {
            for (index, cell) in row.enumerated() {
                let cellWidth =
                    wrapsCells
                    ? cell.split(separator: "\n").map { DisplayWidth.of(String($0)) }.max() ?? 0
                    : DisplayWidth.of(cell)
                natural[index] = max(natural[index], cellWidth)
            }
        }
        guard let width else { return natural.map { min($0, maxColumnWidth) } }
        let available = width - Self.gap * (count - 1)
        guard natural.reduce(0, +) > available else { return natural }
        // Phases, gentlest first: text columns give way down to a comfortable width; then kept
        // columns too, down to 8; then both further; fixed columns never. Within a phase the
        // widest columns give first: each shrinking column gets min(natural, max(cap, floor))
        // for the largest cap that fits.
        let phases: [(text: Int, kept: Int?)] = [
            (Self.comfortableMinimum, nil), (Self.comfortableMinimum, 8), (4, 6), (1, 1),
        ]
        for phase in phases {
            func floor(_ index: Int) -> Int? {
                if fixedColumns.contains(index) { return nil }
                return keptColumns.contains(index) ? phase.kept : phase.text
            }
            func widths(_ cap: Int) -> [Int] {
                natural.indices.map { index in
                    guard let floor = floor(index) else { return natural[index] }
                    return min(natural[index], max(cap, floor))
                }
            }
            guard widths(0).reduce(0, +) <= available else { continue }
            var low = 0
            var high = natural.max() ?? 0
            while low < high {
                let middle = (low + high + 1) / 2
                if widths(middle).reduce(0, +) <= available { low = middle } else { high = middle - 1 }
            }
            var result = widths(low)
            // Hand out what rounding left to the columns that were shortened, left to right.
            var spare = available - result.reduce(0, +)
            for index in natural.indices where spare > 0 && result[index] < natural[index] {
                let extra = min(spare, natural[index] - result[index])
                result[index] += extra
                spare -= extra
            }
            return result
        }
        // Even one column each does not fit: the final cut of each line keeps the width.
        return natural.indices.map { fixedColumns.contains($0) ? natural[$0] : 1 }
    }
}

/// Help and usage text wrapped by display width, for both command-line tools: ArgumentParser
/// counts characters, so a Japanese sentence (two columns a character, no spaces) or a long usage
/// line would run far past the edge. Render the help unwrapped (`columns: 10_000`) and pass it
/// here: each line keeps its indent, and an option's or subcommand's description continues under
/// its first word.
public enum HelpText {
    public static func rewrap(_ text: String, width: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).flatMap { line -> [String] in
            let line = String(line)
            guard DisplayWidth.of(line) > width else { return [line] }
            let characters = Array(line)
            let leading = characters.prefix { $0 == " " }.count
            var bodyStart = leading
            // "  --home <home>     Data directory": continue under "Data".
            if leading <= 4,
                let label = characters.indices.first(where: { index in
                    index > leading + 1 && characters[index] != " " && characters[index - 1] == " "
                        && characters[index - 2] == " "
                }), DisplayWidth.of(String(characters[0..<label])) <= width / 2
            {
                bodyStart = label
            }
            // "USAGE: kakehashi-server serve [--db <db>] …": continue under the command.
            if line.hasPrefix("USAGE: ") { bodyStart = 7 }
            let head = String(characters[0..<bodyStart])
            let indent = DisplayWidth.of(head)
            let pieces = DisplayWidth.wrap(String(characters[bodyStart...]), to: max(20, width - indent))
            return pieces.enumerated().map { index, piece in
                (index == 0 ? head : String(repeating: " ", count: indent)) + piece
            }
        }.joined(separator: "\n")
    }
}
