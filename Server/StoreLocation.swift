import KakehashiShared

/// Which change-log store the server runs on, from `--db URL` or `$KAKEHASHI_SERVER_DB`:
/// `sqlite:PATH` (the embedded default) or `postgres://…` / `postgresql://…`.
public enum StoreLocation: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    /// The embedded store used when neither `--db` nor `$KAKEHASHI_SERVER_DB` is given, the same
    /// for `serve` and every admin command wherever they are started:
    /// `$XDG_DATA_HOME/kakehashi-server/server.sqlite`, else
    /// `~/.local/share/kakehashi-server/server.sqlite` (the XDG default). Never the working
    /// directory, where a forgotten `--db` used to create a stray store that later confused `init`.
    /// - Throws: `KakehashiError` (`.usage`, field `db`) when neither variable is an absolute path.
    public static func defaultLocation(environment: [String: String]) throws(KakehashiError) -> StoreLocation {
        // The XDG base directory specification ignores relative paths.
        if let data = environment["XDG_DATA_HOME"], data.hasPrefix("/") {
            return .sqlite(path: data + "/kakehashi-server/server.sqlite")
        }
        if let home = environment["HOME"], home.hasPrefix("/") {
            return .sqlite(path: home + "/.local/share/kakehashi-server/server.sqlite")
        }
        throw KakehashiError(
            .usage, field: "db", "no default store location ($HOME is not set): pass --db or set KAKEHASHI_SERVER_DB")
    }

    /// Reads `--db`, falling back to `$KAKEHASHI_SERVER_DB`, then the embedded default.
    /// - Throws: `KakehashiError` (`.usage`, field `db`) for an unsupported scheme.
    public static func resolve(option: String?, environment: [String: String]) throws(KakehashiError) -> StoreLocation {
        guard let text = option ?? environment["KAKEHASHI_SERVER_DB"], !text.isEmpty else {
            return try defaultLocation(environment: environment)
        }
        return try parse(text)
    }

    public static func parse(_ text: String) throws(KakehashiError) -> StoreLocation {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") { return .postgres(url: text) }
        if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else {
                throw KakehashiError(.usage, field: "db", "sqlite: needs a file path (sqlite:PATH)")
            }
            return .sqlite(path: path)
        }
        throw KakehashiError(
            .usage, field: "db", "'\(text)' is not a store URL; use sqlite:PATH or postgres://USER@HOST/DB",
            validValues: ["sqlite:PATH", "postgres://…"])
    }

    /// The location with any password hidden, for logs.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let url):
            if let at = url.lastIndex(of: "@"), let schemeEnd = url.range(of: "://"),
                let colon = url[schemeEnd.upperBound..<at].firstIndex(of: ":")
            {
                String(url[..<colon]) + ":***" + String(url[at...])
            } else {
                url
            }
        }
    }
}
