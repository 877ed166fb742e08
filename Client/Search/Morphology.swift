import CMeCab
import Foundation

/// Japanese words through MeCab and the IPA dictionary (`/etc/mecabrc`): the surface of each
/// morpheme and its part of speech, so `match` keywords are words (密着性向上 → 密着 / 性 / 向上)
/// rather than character fragments.
public final class Morphology: @unchecked Sendable {
    /// One morpheme.
    public struct Token: Sendable, Hashable {
        public let surface: String
        /// Part of speech and its first subdivision, e.g. `名詞` / `サ変接続`.
        public let partOfSpeech: String
        public let subdivision: String
    }

    /// The process's analyzer, or nil when MeCab or its dictionary is missing (then keywords
    /// come from `KeywordExtractor`'s script runs).
    public static let shared: Morphology? = Morphology()

    private let tagger: OpaquePointer
    private let lock = NSLock()

    private init?() {
        // An empty dictionary configuration: MeCab reads /etc/mecabrc (Debian's dictionary).
        guard let tagger = mecab_new2("") else { return nil }
        self.tagger = tagger
    }

    deinit { mecab_destroy(tagger) }

    /// The morphemes of `text`, in order.
    public func tokens(_ text: String) -> [Token] {
        lock.lock()
        defer { lock.unlock() }
        var tokens: [Token] = []
        text.utf8CString.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress,
                var node = mecab_sparse_tonode2(tagger, base, buffer.count - 1)
            else { return }
            while true {
                let stat = Int32(node.pointee.stat)
                if stat != Int32(MECAB_BOS_NODE), stat != Int32(MECAB_EOS_NODE),
                    let surfacePointer = node.pointee.surface
                {
                    let length = Int(node.pointee.length)
                    let surface = surfacePointer.withMemoryRebound(to: UInt8.self, capacity: length) {
                        String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
                    }
                    let feature = node.pointee.feature.map { String(cString: $0) } ?? ""
                    let parts = feature.split(separator: ",", omittingEmptySubsequences: false)
                    tokens.append(
                        Token(
                            surface: surface, partOfSpeech: parts.first.map(String.init) ?? "",
                            subdivision: parts.count > 1 ? String(parts[1]) : ""))
                }
                guard let next = node.pointee.next else { break }
                node = UnsafePointer(next)
            }
        }
        return tokens
    }
}
