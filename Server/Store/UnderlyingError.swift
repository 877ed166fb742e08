/// A database or network error kept as text, so it can travel as a `KakehashiError.cause`
/// (which must be `Sendable`) and be shown in one sentence.
struct UnderlyingError: Error, Sendable, CustomStringConvertible {
    let description: String

    init(_ error: any Error) { description = String(describing: error) }

    init(description: String) { self.description = description }
}
