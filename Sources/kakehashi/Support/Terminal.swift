import ArgumentParser
import Foundation
import KakehashiShared

/// The terminal the output goes to: its width, whether tables may be shortened, and help text
/// wrapped by display width.
enum Terminal {
    /// Columns to fit: `$COLUMNS`, else the terminal's width when stdout is one, else 80.
    static func width(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        if let columns = environment["COLUMNS"].flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }),
            columns > 0
        {
            return max(20, columns)
        }
        var size = winsize()
        if isatty(STDOUT_FILENO) == 1, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 {
            return max(20, Int(size.ws_col))
        }
        return 80
    }

    /// `--wide`: tables show every cell in full (set for the running command).
    @TaskLocal static var wide = false

    /// `table` laid out for the terminal: fitted to its width, or in full with `--wide`.
    static func fit(_ table: TextTable) -> TextTable {
        var table = table
        if wide {
            table.width = nil
            table.maxColumnWidth = Int.max / 4
        } else {
            table.width = width()
        }
        return table
    }

    /// Help and usage text re-wrapped by display width (`HelpText.rewrap`).
    static func rewrap(_ text: String, width: Int) -> String { HelpText.rewrap(text, width: width) }
}

/// Options that may come before the subcommand as well as after it
/// (`kakehashi --home DIR case list`, as with `git -C`).
enum GlobalOptions {
    static let valued: Set<String> = ["--home"]
    static let flags: Set<String> = ["--json", "--wide"]

    /// The arguments with leading global options moved behind the subcommand's own (before a
    /// `--`, if there is one), where every client command declares them.
    static func reorder(_ arguments: [String]) -> [String] {
        var globals: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if flags.contains(argument) || valued.contains(where: { argument.hasPrefix($0 + "=") }) {
                globals.append(argument)
                index += 1
            } else if valued.contains(argument), index + 1 < arguments.count {
                globals += [argument, arguments[index + 1]]
                index += 2
            } else {
                break
            }
        }
        guard !globals.isEmpty, index < arguments.count else { return Array(arguments[index...]) }
        var rest = Array(arguments[index...])
        rest.insert(contentsOf: globals, at: rest.firstIndex(of: "--") ?? rest.endIndex)
        return rest
    }
}

extension CompletionKind {
    /// Shell completion of a closed set: its values (`sme`, `university`, …), which every
    /// command also accepts as the Japanese labels.
    static func domain(_ domain: EnumDomain) -> CompletionKind { .list(domain.values) }
}
