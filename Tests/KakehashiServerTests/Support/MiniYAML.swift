/// A reader for the block-style YAML subset Docs/openapi.yaml is written in: mappings,
/// sequences, plain and quoted scalars, flow sequences (`[a, b]`), folded scalars (`>-`), and
/// full-line comments. Enough to check the document against the server, no more.
struct MiniYAML {
    private var lines: [(indent: Int, text: String)]
    private var index = 0

    static func parse(_ text: String) -> Any? {
        var reader = MiniYAML(
            lines: text.split(separator: "\n", omittingEmptySubsequences: false).compactMap { raw in
                let line = String(raw)
                let trimmed = line.drop { $0 == " " }
                if trimmed.isEmpty || trimmed.hasPrefix("#") { return nil }
                return (line.count - trimmed.count, String(trimmed))
            })
        guard let first = reader.lines.first else { return nil }
        return reader.block(indent: first.indent)
    }

    private init(lines: [(indent: Int, text: String)]) { self.lines = lines }

    private mutating func block(indent: Int) -> Any {
        lines[index].text.hasPrefix("- ") ? sequence(indent: indent) : mapping(indent: indent)
    }

    private mutating func mapping(indent: Int) -> [String: Any] {
        var result: [String: Any] = [:]
        while index < lines.count, lines[index].indent == indent, !lines[index].text.hasPrefix("- ") {
            let text = lines[index].text
            let (key, rest) = Self.splitKey(text)
            index += 1
            if rest.isEmpty {
                if index < lines.count, lines[index].indent > indent {
                    result[key] = block(indent: lines[index].indent)
                } else if index < lines.count, lines[index].indent == indent, lines[index].text.hasPrefix("- ") {
                    result[key] = sequence(indent: indent)
                } else {
                    result[key] = NSNullMarker()
                }
            } else if rest == ">-" || rest == ">" || rest == "|" || rest == "|-" {
                var parts: [String] = []
                while index < lines.count, lines[index].indent > indent {
                    parts.append(lines[index].text)
                    index += 1
                }
                result[key] = parts.joined(separator: rest.hasPrefix(">") ? " " : "\n")
            } else {
                result[key] = Self.scalar(rest)
            }
        }
        return result
    }

    private mutating func sequence(indent: Int) -> [Any] {
        var result: [Any] = []
        while index < lines.count, lines[index].indent == indent, lines[index].text.hasPrefix("- ") {
            let content = String(lines[index].text.dropFirst(2))
            if Self.splitKey(content).key != content {
                lines[index] = (indent + 2, content)
                result.append(mapping(indent: indent + 2))
            } else {
                result.append(Self.scalar(content))
                index += 1
            }
        }
        return result
    }

    /// `key: rest` → (key, rest); a line that is not a mapping entry returns itself as the key.
    private static func splitKey(_ text: String) -> (key: String, rest: String) {
        var quote: Character?
        var previous: Character?
        for position in text.indices {
            let character = text[position]
            if character == "'" || character == "\"" {
                if quote == nil, previous == nil || previous == " " {
                    quote = character
                } else if quote == character {
                    quote = nil
                }
            }
            if quote == nil, character == ":" {
                let after = text.index(after: position)
                if after == text.endIndex || text[after] == " " {
                    let key = unquote(String(text[..<position]))
                    let rest = after == text.endIndex ? "" : String(text[text.index(after: after)...])
                    return (key, rest.trimmingSpaces())
                }
            }
            previous = character
        }
        return (text, "")
    }

    private static func scalar(_ text: String) -> Any {
        if text.hasPrefix("["), text.hasSuffix("]") {
            return text.dropFirst().dropLast().split(separator: ",").map { unquote(String($0).trimmingSpaces()) }
        }
        if text.hasPrefix("'") || text.hasPrefix("\"") { return unquote(text) }
        if text == "true" { return true }
        if text == "false" { return false }
        if let number = Int(text) { return number }
        return text
    }

    private static func unquote(_ text: String) -> String {
        guard text.count >= 2, let first = text.first, first == "'" || first == "\"", text.last == first else {
            return text
        }
        return String(text.dropFirst().dropLast())
    }
}

/// YAML's `null` for a key with no value.
struct NSNullMarker {}

extension String {
    fileprivate func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
