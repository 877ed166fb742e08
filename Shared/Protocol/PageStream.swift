/// Several consecutive pull pages in one response body (`application/vnd.kakehashi.pages`,
/// feature `page-streams`): a client that asks `GET /v1/pull?…&pages=N` with that type in
/// `Accept` receives up to N pages one after another, each made by the server in its own
/// transaction exactly as if it had been asked alone, each written as soon as it is made. Over a
/// slow, lossy link a page no longer costs a round trip, and a lost segment delays the stream by
/// its own delay instead of stalling the one page in flight (Docs/protocol.md, "Page streams").
///
/// Layout: the magic `KKPS`, a version byte (1), then frames, each a kind byte:
///
/// | kind | frame | then |
/// |---|---|---|
/// | 1 | page | varint: the server's time to make the page, in microseconds; varint: byte length; that many bytes, a binary page (`BinaryPage`) |
/// | 2 | error | varint: the HTTP status the page would have been answered with alone; varint: byte length; that many bytes, an `ErrorResponse` in JSON. The stream ends here |
/// | 0 | end | nothing: the stream ended as the server meant it to (the last page has `hasMore` false, or the page count or the byte budget was reached) |
///
/// A stream cut before its end frame (the connection dropped) still holds whole pages: each page
/// frame is complete when its last byte is in, and carries its own end mark.
public enum PageStream {
    /// The media type of a page stream, in `Accept` and `Content-Type`.
    public static let mediaType = "application/vnd.kakehashi.pages"
    static let magic: [UInt8] = Array("KKPS".utf8)
    static let version: UInt8 = 1
    /// The largest frame a reader takes: well above a page of `WireProtocol.maxPullLimit` states
    /// or changes, so a damaged or hostile length cannot make a laptop buffer without bound.
    public static let maxFrameBytes = 256 * 1024 * 1024

    enum Kind: UInt8 {
        case end = 0, page = 1, error = 2
    }

    /// The stream's first bytes.
    public static var header: [UInt8] { magic + [version] }

    /// A page frame: the page's binary form, and the server's time to make it.
    public static func pageFrame(_ page: [UInt8], serverMicroseconds: UInt64) -> [UInt8] {
        var frame: [UInt8] = [Kind.page.rawValue]
        frame.reserveCapacity(page.count + 21)
        appendVarint(serverMicroseconds, to: &frame)
        appendVarint(UInt64(page.count), to: &frame)
        frame += page
        return frame
    }

    /// An error frame: what the page would have been answered with alone; it ends the stream.
    public static func errorFrame(status: Int, body: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = [Kind.error.rawValue]
        appendVarint(UInt64(max(0, status)), to: &frame)
        appendVarint(UInt64(body.count), to: &frame)
        frame += body
        return frame
    }

    /// The end frame.
    public static let endFrame: [UInt8] = [Kind.end.rawValue]

    static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// What a reader found in the bytes given so far.
    public enum Frame: Sendable, Equatable {
        /// A whole page frame: the page's bytes (`BinaryPage.pullResponse(from:)` reads them) and
        /// the server's time to make it.
        case page([UInt8], serverMicroseconds: UInt64)
        /// The stream ends with what the page would have been answered with alone.
        case error(status: Int, body: [UInt8])
        /// The stream ended as the server meant it to.
        case end
    }

    /// Reads a stream as its bytes arrive, frame by frame (the laptop's libcurl write callback
    /// feeds it): `append` the bytes, then take `next()` until it returns nil.
    public struct Reader: Sendable {
        private var buffer: [UInt8] = []
        private var offset = 0
        private var sawHeader = false
        /// Set once the end or an error frame was read; bytes after it are damage.
        public private(set) var finished = false

        public init() {}

        public mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
            buffer.append(contentsOf: bytes)
        }

        public mutating func append(_ bytes: [UInt8]) {
            buffer += bytes
        }

        /// Whether bytes are left that no whole frame holds yet (a stream that ends here was cut).
        public var holdsPartialFrame: Bool { offset < buffer.count }

        /// The next whole frame, or nil when more bytes are needed.
        /// - Throws: `KakehashiError` (`.invalidData`, field `page`) when the bytes are not a stream.
        public mutating func next() throws(KakehashiError) -> Frame? {
            if !sawHeader {
                guard buffer.count - offset >= PageStream.header.count else { return nil }
                guard Array(buffer[offset..<offset + PageStream.header.count]) == PageStream.header else {
                    throw Self.damaged("it does not start with KKPS and version 1")
                }
                offset += PageStream.header.count
                sawHeader = true
            }
            guard offset < buffer.count else { return nil }
            guard !finished else { throw Self.damaged("bytes follow its last frame") }
            var cursor = offset
            guard let kind = Kind(rawValue: buffer[cursor]) else {
                throw Self.damaged("unknown frame kind \(buffer[cursor])")
            }
            cursor += 1
            let frame: Frame
            switch kind {
            case .end:
                frame = .end
            case .page, .error:
                guard let first = try varint(at: &cursor), let length = try varint(at: &cursor) else { return nil }
                guard length <= UInt64(PageStream.maxFrameBytes) else {
                    throw Self.damaged("a frame of \(length) bytes is over the limit")
                }
                guard buffer.count - cursor >= Int(length) else { return nil }
                let body = Array(buffer[cursor..<cursor + Int(length)])
                cursor += Int(length)
                if kind == .page {
                    frame = .page(body, serverMicroseconds: first)
                } else {
                    guard first <= 999 else { throw Self.damaged("error status \(first)") }
                    frame = .error(status: Int(first), body: body)
                }
            }
            offset = cursor
            if case .page = frame {} else { finished = true }
            // Drop what was read once it is a good part of the buffer, so a long stream does not
            // keep every page it carried.
            if offset > 1 << 20, offset * 2 > buffer.count {
                buffer.removeFirst(offset)
                offset = 0
            }
            return frame
        }

        /// A varint at `cursor`, or nil when its bytes are not all in yet.
        private func varint(at cursor: inout Int) throws(KakehashiError) -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            var position = cursor
            while true {
                guard position < buffer.count else { return nil }
                let byte = buffer[position]
                position += 1
                guard shift < 64, shift < 63 || byte <= 1 else { throw Self.damaged("a length over 64 bits") }
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { break }
                shift += 7
            }
            cursor = position
            return value
        }

        static func damaged(_ reason: String) -> KakehashiError {
            .invalid("page", "the page stream is damaged: \(reason)")
        }
    }
}
