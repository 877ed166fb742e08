/// Renders rows as a plain-text table whose columns line up in a terminal, counting East Asian
/// wide and full-width characters (漢字, かな, full-width forms) as two columns.
public enum TextTable {
    public static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { width(of: $0[column]) }.max() ?? 0 }
        return all.map { row in
            row.indices.map { column in
                column == row.count - 1
                    ? row[column]
                    : row[column] + String(repeating: " ", count: widths[column] - width(of: row[column]))
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// Display columns of `text` in a terminal.
    public static func width(of text: String) -> Int {
        text.unicodeScalars.reduce(0) { total, scalar in
            if scalar.properties.generalCategory == .nonspacingMark || scalar.value == 0x200B { return total }
            return total + (isWide(scalar.value) ? 2 : 1)
        }
    }

    /// East Asian Width W or F (Unicode UAX #11), for the blocks Japanese text uses.
    static func isWide(_ value: UInt32) -> Bool {
        switch value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
            0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60,
            0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            true
        default:
            false
        }
    }
}
