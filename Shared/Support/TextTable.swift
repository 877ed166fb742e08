/// Terminal column widths of text, so tables line up when they mix Japanese full-width and
/// ASCII characters (Unicode East Asian Width: wide and full-width characters take two columns).
public enum DisplayWidth {
    public static func of(_ text: String) -> Int {
        text.reduce(0) { $0 + of($1) }
    }

    public static func of(_ character: Character) -> Int {
        guard let scalar = character.unicodeScalars.first else { return 0 }
        switch scalar.value {
        case 0x0000..<0x0020, 0x007F..<0x00A0: return 0
        case 0x0300...0x036F, 0x200B...0x200F, 0x3099...0x309A: return 0
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
            0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60,
            0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return 2
        default: return 1
        }
    }

    /// `text` cut to at most `width` columns, ending in "…" when something was cut.
    public static func truncate(_ text: String, to width: Int) -> String {
        guard of(text) > width else { return text }
        var out = ""
        var used = 0
        for character in text {
            let next = of(character)
            if used + next > width - 1 { break }
            out.append(character)
            used += next
        }
        return out + "…"
    }

    /// `text` followed by spaces up to `width` columns.
    public static func pad(_ text: String, to width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - of(text)))
    }
}

/// A plain-text table whose columns align in a terminal, Japanese text included.
public struct TextTable: Sendable {
    public let headers: [String]
    public private(set) var rows: [[String]] = []
    /// Cells wider than this are truncated with "…".
    public var maxColumnWidth = 48

    public init(headers: [String]) { self.headers = headers }

    /// A table of `rows` under `header`, rendered in one call.
    public static func render(header: [String], rows: [[String]]) -> String {
        var table = TextTable(headers: header)
        for row in rows { table.append(row) }
        return table.render()
    }

    public mutating func append(_ row: [String]) {
        rows.append(row.map { $0.replacingOccurrences(of: "\n", with: " ") })
    }

    public func render() -> String {
        let cells = ([headers] + rows).map { $0.map { DisplayWidth.truncate($0, to: maxColumnWidth) } }
        var widths = Array(repeating: 0, count: headers.count)
        for row in cells {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], DisplayWidth.of(cell))
            }
        }
        return cells.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : DisplayWidth.pad(cell, to: widths[index])
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
