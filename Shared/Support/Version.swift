/// The version both executables report and the wire protocol's `User-Agent` carries.
public enum KakehashiVersion {
    public static let current = "0.1.0"

    /// The oldest `kakehashi` release whose protocol this server still speaks in full: the default
    /// of `kakehashi-server serve --min-client-version`. Raise it only in a release that sends what
    /// older clients cannot read (a new entity, operation, value type or push status;
    /// Docs/protocol.md, "Versions and upgrades"), so that upgrading the server never locks out
    /// laptops that can still sync safely.
    public static let oldestCompatibleClient = "0.1.0"

    /// The `User-Agent` every request of the field client carries (Docs/protocol.md, "Client
    /// version"): the server records it per device and refuses versions below its minimum.
    public static var userAgent: String { "kakehashi/\(current)" }
}

/// A release number such as `0.1.0`, compared component by component (`0.10.0` is newer than
/// `0.9.1`). One to three dot-separated numbers; missing components count as 0, and a pre-release
/// or build suffix after `-` or `+` (`0.2.0-dev`) is ignored when comparing.
public struct AppVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public let patch: Int

    public init(major: Int, minor: Int, patch: Int) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Reads `MAJOR[.MINOR[.PATCH]]` with an optional `-…` or `+…` suffix; nil for anything else.
    public init?(_ text: String) {
        let core = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)[0]
            .split(separator: "+", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let parts = core.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count) else { return nil }
        var numbers: [Int] = []
        for part in parts {
            guard (1...6).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(part)
            else { return nil }
            numbers.append(number)
        }
        while numbers.count < 3 { numbers.append(0) }
        self.init(major: numbers[0], minor: numbers[1], patch: numbers[2])
    }

    /// The default minimum client version (`KakehashiVersion.oldestCompatibleClient`).
    public static var oldestCompatibleClient: AppVersion {
        guard let version = AppVersion(KakehashiVersion.oldestCompatibleClient) else {
            preconditionFailure("KakehashiVersion.oldestCompatibleClient is not a version")
        }
        return version
    }

    /// The version of this build (`KakehashiVersion.current`).
    public static var current: AppVersion {
        guard let version = AppVersion(KakehashiVersion.current) else {
            preconditionFailure("KakehashiVersion.current is not a version")
        }
        return version
    }

    /// The client version a `User-Agent` of the form `kakehashi/VERSION …` names; nil for other
    /// user agents and for versions that are not release numbers.
    public init?(userAgent: String?) {
        guard let product = userAgent?.split(separator: " ").first, product.hasPrefix("kakehashi/") else {
            return nil
        }
        self.init(String(product.dropFirst("kakehashi/".count)))
    }

    public var description: String { "\(major).\(minor).\(patch)" }

    public static func < (lhs: AppVersion, rhs: AppVersion) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
    }
}
