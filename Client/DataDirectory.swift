import KakehashiShared

/// Where a laptop keeps its store (Docs/design.md §8): `--home DIR`, else `$KAKEHASHI_HOME`,
/// else `$XDG_DATA_HOME/kakehashi`, else `~/.local/share/kakehashi` (the XDG default).
public enum DataDirectory {
    /// The data directory for this invocation.
    /// - Parameters:
    ///   - home: the `--home` option, if given.
    ///   - environment: the process environment.
    /// - Throws: `KakehashiError` (`.usage`) when no location can be worked out.
    public static func resolve(home: String?, environment: [String: String]) throws(KakehashiError) -> String {
        if let home, !home.isEmpty { return home }
        if let home = environment["KAKEHASHI_HOME"], !home.isEmpty { return home }
        if let data = environment["XDG_DATA_HOME"], !data.isEmpty { return data + "/kakehashi" }
        if let user = environment["HOME"], !user.isEmpty { return user + "/.local/share/kakehashi" }
        throw KakehashiError(.usage, field: "home", "no data directory: pass --home DIR or set KAKEHASHI_HOME")
    }
}
