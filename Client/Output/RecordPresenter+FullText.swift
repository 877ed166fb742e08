import KakehashiShared

/// Records read in full: `event show`, `case show` and the other show commands print long texts
/// (an activity's body, a case's summary, notes) whole, wrapped to the terminal, never cut.
extension RecordPresenter {
    /// Whether a field holds long text that is printed as a block of its own.
    static func isLongText(_ spec: FieldSpec) -> Bool {
        if case .text(_, let multiline) = spec.kind { return multiline }
        return false
    }

    /// Every field with a value: short ones as a two-column listing, long texts in full below it,
    /// wrapped to `width` display columns.
    public func fullDetail(_ record: RecordView, width: Int) -> String {
        var table = TextTable(headers: ["id", record.id])
        // Fitted to the width with TextTable: values wrap under themselves, nothing is cut.
        table.width = width
        table.fixedColumns = [0]
        table.wrapsCells = true
        table.maxColumnWidth = Int.max / 4
        var blocks: [String] = []
        for field in record.entity.schema.fields {
            let text = display(record, field.name)
            if text.isEmpty { continue }
            if Self.isLongText(field) {
                blocks.append(
                    "\(field.label) (\(field.name))\n" + TextWrap.wrap(text, width: width - 2, indent: "  "))
            } else {
                table.append(["\(field.label) (\(field.name))", text])
            }
        }
        for name in record.unknownFieldNames {
            let text = record.unknownText(name)
            if !text.isEmpty { table.append(["\(Self.unknownFieldLabel) (\(name))", text]) }
        }
        return ([table.render()] + blocks).joined(separator: "\n\n")
    }

    /// Activity records as blocks: a heading line (date, kind, author, short id) and the whole
    /// body below it, wrapped to `width`.
    public func eventBlocks(_ events: [RecordView], width: Int) -> String {
        events.map { event in
            let heading = [
                display(event, "date"), display(event, "kind"), display(event, "author"),
                event.values["referred_to"]?.isNull == false ? "→ " + display(event, "referred_to") : "",
                "[\(ShortID.of(event.id))]",
            ].filter { !$0.isEmpty }.joined(separator: "  ")
            return DisplayWidth.truncate(heading, to: width) + "\n"
                + TextWrap.wrap(display(event, "body"), width: width - 2, indent: "  ")
        }.joined(separator: "\n\n")
    }
}

/// Wrapping text to a number of display columns (Japanese characters take two): lines break
/// between words where there are spaces, and between any two characters in Japanese text, which
/// has none; line breaks in the text are kept.
public enum TextWrap {
    /// Characters that do not start a line in Japanese typesetting (禁則処理).
    static let noLineStart: Set<Character> = ["。", "、", "，", "．", "」", "』", "）", "】", "！", "？", "ー", "ッ", "っ", "…"]

    public static func wrap(_ text: String, width: Int, indent: String = "") -> String {
        let available = max(10, width - DisplayWidth.of(indent))
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            var lineWidth = 0
            var word = ""
            var wordWidth = 0
            func flushWord() {
                if lineWidth + wordWidth > available, !line.isEmpty {
                    // Japanese closing punctuation never starts a line: the character before it
                    // moves down with it.
                    if let first = word.first, noLineStart.contains(first), line.count > 1,
                        let last = line.popLast()
                    {
                        word.insert(last, at: word.startIndex)
                        wordWidth += DisplayWidth.of(last)
                        lineWidth -= DisplayWidth.of(last)
                    }
                    lines.append(line.trimmingTrailingSpaces())
                    line = ""
                    lineWidth = 0
                    if word.first == " " {
                        word.removeFirst()
                        wordWidth -= 1
                    }
                }
                // A word longer than a line is cut where the line ends.
                for character in word {
                    let characterWidth = DisplayWidth.of(character)
                    if lineWidth + characterWidth > available, !line.isEmpty {
                        lines.append(line.trimmingTrailingSpaces())
                        line = ""
                        lineWidth = 0
                    }
                    line.append(character)
                    lineWidth += characterWidth
                }
                word = ""
                wordWidth = 0
            }
            for character in paragraph {
                let characterWidth = DisplayWidth.of(character)
                if character == " " || characterWidth == 2 {
                    // A space starts a new word; a wide character is a word by itself.
                    flushWord()
                    word.append(character)
                    wordWidth += characterWidth
                    if characterWidth == 2 { flushWord() }
                } else {
                    word.append(character)
                    wordWidth += characterWidth
                }
            }
            flushWord()
            lines.append(line.trimmingTrailingSpaces())
        }
        return lines.map { $0.isEmpty ? "" : indent + $0 }.joined(separator: "\n")
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
