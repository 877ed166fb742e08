import Foundation
import KakehashiClient
import KakehashiShared

/// Writing results: ids and tables to stdout, errors to stderr, JSON when asked.
enum Output {
    static func line(_ text: String) {
        print(text)
    }

    /// A created record's id: alone on stdout, or `{"id": …}` with `--json`.
    static func created(_ id: String, json: Bool) throws {
        if json { try Output.json(["id": id]) } else { line(id) }
    }

    /// A table fitted to the terminal (`--wide`: in full).
    static func table(_ table: TextTable) {
        line(Terminal.fit(table).render())
    }

    static func json(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func error(_ error: KakehashiError) {
        StandardStreams.error("error: \(error.description)\n")
    }

    static func note(_ text: String) {
        StandardStreams.error(text + "\n")
    }

    /// Rewrites the current terminal line on stderr (a progress bar); `finishProgress` ends it.
    /// A line wider than the terminal would wrap, and `\r` would then rewrite only its last row:
    /// the text is cut to the width by display columns.
    static func progress(_ text: String) {
        let line = DisplayWidth.truncate(text, to: Terminal.width() - 1)
        StandardStreams.error("\r\u{1B}[K\(line)")
    }

    static func finishProgress() {
        StandardStreams.error("\r\u{1B}[K")
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Reads a text file argument, which must be UTF-8.
    static func readText(_ path: String, option: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KakehashiError.invalid(option, "cannot read file '\(path)'")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw KakehashiError.invalid(option, "'\(path)' is not valid UTF-8 text")
        }
        return text
    }

    static func bytes(_ count: Int) -> String {
        count < 1024
            ? "\(count) B"
            : count < 1_048_576
                ? String(format: "%.1f KB", Double(count) / 1024)
                : String(format: "%.1f MB", Double(count) / 1_048_576)
    }
}
