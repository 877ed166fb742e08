/// The one error type the libraries throw: a code that decides the exit status or HTTP status,
/// one human sentence, the field it concerns, and an optional underlying cause.
///
/// Modelled on swift-nio's `FileSystemError`: callers switch on `code`, people read `message`.
public struct KakehashiError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is; each maps to one documented CLI exit code (Docs/design.md §8).
    public enum Code: String, Sendable, Hashable, Codable {
        /// The command line itself was wrong (unknown option, missing argument).
        case usage
        /// The data was invalid: bad field value, unknown id, malformed input file.
        case invalidData
        /// The server could not be reached or did not answer usefully.
        case unavailable
        /// Not enrolled, not permitted, or the device was revoked.
        case notAuthorized
        /// A local or server fault that is not the caller's doing.
        case internalFailure
        /// The server no longer accepts this client's version: upgrade `kakehashi` (nothing on
        /// the laptop was changed; pending changes wait for the upgraded client).
        case upgradeRequired

        /// The process exit status the CLIs use for this code (sysexits.h values).
        public var exitCode: Int32 {
            switch self {
            case .usage: 64
            case .invalidData: 65
            case .unavailable: 69
            case .notAuthorized: 77
            case .internalFailure: 70
            case .upgradeRequired: 76  // EX_PROTOCOL: the server refuses this protocol version
            }
        }
    }

    public var code: Code
    /// The field the error is about, as users name it (`title`, `corporate_number`), if any.
    public var field: String?
    /// One sentence for a person; for invalid enum values it lists the valid ones.
    public var message: String
    /// The valid values, when the field has a closed set of them.
    public var validValues: [String]
    public var cause: (any Error & Sendable)?

    public init(
        _ code: Code,
        field: String? = nil,
        _ message: String,
        validValues: [String] = [],
        cause: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.field = field
        self.message = message
        self.validValues = validValues
        self.cause = cause
    }

    /// Shorthand for the most common case: a field value that is not valid.
    public static func invalid(_ field: String, _ message: String, validValues: [String] = []) -> KakehashiError {
        KakehashiError(.invalidData, field: field, message, validValues: validValues)
    }

    public var description: String {
        var text = field.map { "\($0): \(message)" } ?? message
        if let cause { text += " (\(cause))" }
        return text
    }
}
