import Foundation
import GRDB
import KakehashiTestSupport

/// Text that must not survive on a laptop, with every form SQLite may hold it in.
struct Canary: Sendable, CustomStringConvertible {
    let text: String
    /// The random run of kanji, on its own: found even where the whole text is split across pages.
    let kanji: String
    /// The random ASCII tail.
    let ascii: String

    var description: String { text }

    /// Six random kanji, three random full-width capitals, a hyphen and six random ASCII letters
    /// and digits: `鵺鰯鱈鰊鯵鯖ＸＫＱ-Kq7Zx9`. Random, so its trigrams occur nowhere else.
    static func random() -> Canary {
        func scalars(_ range: ClosedRange<UInt32>, _ count: Int) -> String {
            String(String.UnicodeScalarView((0..<count).compactMap { _ in Unicode.Scalar(UInt32.random(in: range)) }))
        }
        let kanji = scalars(0x4E00...0x9FA5, 6)
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789")
        let ascii = String((0..<6).map { _ in alphabet.randomElement() ?? "x" })
        return Canary(text: kanji + scalars(0xFF21...0xFF3A, 3) + "-" + ascii, kanji: kanji, ascii: ascii)
    }

    /// Byte strings whose presence anywhere means the text is recoverable: the text as typed,
    /// lower-cased, in NFC and NFKC (full-width letters folded), its kanji run alone, its ASCII
    /// tail, and the kanji as JSON `\u` escapes.
    var forms: [(name: String, bytes: [UInt8])] {
        let nfkc = text.precomposedStringWithCompatibilityMapping
        var forms: [(String, String)] = [
            ("text", text), ("lower-cased", text.lowercased()), ("NFC", text.precomposedStringWithCanonicalMapping),
            ("NFKC", nfkc), ("NFKC lower-cased", nfkc.lowercased()), ("kanji run", kanji), ("ASCII tail", ascii),
            ("ASCII tail lower-cased", ascii.lowercased()),
        ]
        for uppercase in [false, true] {
            let escaped = kanji.unicodeScalars.map { "\\u" + String($0.value, radix: 16, uppercase: uppercase) }
            forms.append(("JSON-escaped kanji", escaped.joined()))
        }
        return forms.map { ($0.0, Array($0.1.utf8)) }
    }

    /// The terms FTS5's `trigram` tokenizer makes of the text as the search index holds it
    /// (`SearchFolding`: NFKC, so full-width capitals become ASCII, then lower-cased): every three
    /// consecutive characters.
    var trigrams: Set<[UInt8]> {
        let characters = Array(text.precomposedStringWithCompatibilityMapping.lowercased().unicodeScalars)
        return Set(
            (0...(characters.count - 3)).map { start in
                Array(String(String.UnicodeScalarView(characters[start..<start + 3])).utf8)
            })
    }
}

/// What a forensic examiner recovers from a laptop's files without the application: raw bytes of
/// every file, every page of the database and every frame of its WAL parsed as B-tree pages,
/// and the FTS5 index decoded term by term (prefix-compressed leaf pages and the `%_idx` table).
struct SQLiteForensics {
    struct Finding: CustomStringConvertible, Sendable {
        let canary: String
        let file: String
        let place: String
        let form: String
        var description: String { "\(form) of \(canary) in \(file) at \(place)" }
    }

    let canaries: [Canary]

    /// Examines every file given (paths of the data directory, and of hard links to store files
    /// that have since been unlinked).
    func examine(_ files: [String]) throws -> [Finding] {
        var findings: [Finding] = []
        for file in files {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
            let name = URL(fileURLWithPath: file).lastPathComponent
            let owners = (try? pageOwners(file)) ?? [:]
            let pageSize = Self.pageSize(bytes) ?? 4096
            for canary in canaries {
                for form in canary.forms {
                    for offset in Self.occurrences(of: form.bytes, in: bytes) {
                        let page = offset / pageSize + 1
                        let owner = owners[page].map { " (\($0))" } ?? ""
                        findings.append(
                            Finding(
                                canary: canary.text, file: name, place: "byte \(offset), page \(page)\(owner)",
                                form: form.name))
                    }
                }
                // A whole trigram is stored as-is where it starts a leaf page or names one in
                // `%_idx`. Only trigrams with a non-ASCII character: three ASCII bytes occur by
                // chance in binary data.
                for trigram in canary.trigrams where trigram.count >= 5 {
                    for offset in Self.occurrences(of: trigram, in: bytes) {
                        findings.append(
                            Finding(
                                canary: canary.text, file: name, place: "byte \(offset)",
                                form: "raw trigram \(String(decoding: trigram, as: UTF8.self))"))
                    }
                }
            }
            for (place, terms) in Self.carvedTerms(bytes) {
                findings += termFindings(terms, file: name, place: place)
            }
        }
        for database in files where Self.pageSize((try? Self.header(of: database)) ?? []) != nil {
            findings += try indexFindings(database)
        }
        return findings
    }

    private func termFindings(_ terms: [[UInt8]], file: String, place: String) -> [Finding] {
        var findings: [Finding] = []
        for canary in canaries {
            let trigrams = canary.trigrams
            for term in terms where trigrams.contains(term) {
                findings.append(
                    Finding(
                        canary: canary.text, file: file, place: place,
                        form: "FTS5 term \(String(decoding: term, as: UTF8.self))"))
            }
        }
        return findings
    }

    // MARK: - The FTS5 index read through SQLite, from a copy

    /// Opens a copy of the database (with its WAL) and decodes every block of `search_data` and
    /// every term of `search_idx`.
    private func indexFindings(_ database: String) throws -> [Finding] {
        let name = URL(fileURLWithPath: database).lastPathComponent
        let copy = TemporaryDirectory("forensic-copy")
        let target = copy.path + "/copy.sqlite"
        try FileManager.default.copyItem(atPath: database, toPath: target)
        if FileManager.default.fileExists(atPath: database + "-wal") {
            try FileManager.default.copyItem(atPath: database + "-wal", toPath: target + "-wal")
        }
        let queue = try DatabaseQueue(path: target)
        let (blocks, idxTerms) = try queue.read { db in
            (
                try Row.fetchAll(db, sql: "SELECT id, block FROM search_data").map { row in
                    (row["id"] as Int64, [UInt8]((row["block"] as Data?) ?? Data()))
                },
                try Row.fetchAll(db, sql: "SELECT segid, term FROM search_idx").map { row in
                    (row["segid"] as Int64, [UInt8]((row["term"] as Data?) ?? Data()))
                }
            )
        }
        try queue.close()
        var findings: [Finding] = []
        for (id, block) in blocks {
            guard let terms = FTS5Leaf.terms(block) else { continue }
            findings += termFindings(terms, file: "search_data of \(name)", place: "block \(id)")
        }
        for (segment, term) in idxTerms {
            let text = FTS5Leaf.stripIndexPrefix(term)
            for canary in canaries {
                // `%_idx` keeps the shortest prefix that separates a leaf page from the one before.
                let hit = canary.trigrams.contains { trigram in
                    Self.occurrences(of: trigram, in: text).first != nil
                        || (text.count >= 5 && trigram.starts(with: text))
                }
                if hit {
                    findings.append(
                        Finding(
                            canary: canary.text, file: "search_idx of \(name)", place: "segment \(segment)",
                            form: "leaf separator \(String(decoding: text, as: UTF8.self))"))
                }
            }
        }
        return findings
    }

    /// Page number → table or index owning it, from `dbstat` on a copy; for messages only.
    private func pageOwners(_ file: String) throws -> [Int: String] {
        guard Self.pageSize(try Self.header(of: file)) != nil else { return [:] }
        let copy = TemporaryDirectory("forensic-pages")
        try FileManager.default.copyItem(atPath: file, toPath: copy.path + "/copy.sqlite")
        let queue = try DatabaseQueue(path: copy.path + "/copy.sqlite")
        defer { try? queue.close() }
        return try queue.read { db in
            var owners: [Int: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT name, pageno FROM dbstat") {
                owners[row["pageno"]] = row["name"]
            }
            return owners
        }
    }

    // MARK: - Raw pages

    static func header(of file: String) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: file) else { return [] }
        defer { try? handle.close() }
        return [UInt8](try handle.read(upToCount: 100) ?? Data())
    }

    /// The page size of a database file, or nil when the bytes are not one.
    static func pageSize(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 100, bytes.starts(with: Array("SQLite format 3\u{0}".utf8)) else { return nil }
        let size = Int(bytes[16]) << 8 | Int(bytes[17])
        return size == 1 ? 65536 : size
    }

    /// Every page of a database file and every frame of a WAL file, parsed as B-tree pages
    /// whatever their state (live, free, superseded): the FTS5 terms of every cell that decodes
    /// as an FTS5 leaf.
    static func carvedTerms(_ bytes: [UInt8]) -> [(place: String, terms: [[UInt8]])] {
        var pages: [(place: String, number: Int, page: ArraySlice<UInt8>)] = []
        if let size = pageSize(bytes) {
            for start in stride(from: 0, to: bytes.count - size + 1, by: size) {
                pages.append(("page \(start / size + 1)", start / size + 1, bytes[start..<start + size]))
            }
        } else if bytes.count >= 32, [0x37, 0x7F, 0x06].elementsEqual(bytes[0..<3]),
            bytes[3] == 0x82 || bytes[3] == 0x83
        {
            let size = Int(bigEndian: bytes[8..<12])
            guard size >= 512 else { return [] }
            var start = 32
            var frame = 1
            while start + 24 + size <= bytes.count {
                let number = Int(bigEndian: bytes[start..<start + 4])
                pages.append(("WAL frame \(frame) (page \(number))", number, bytes[start + 24..<start + 24 + size]))
                start += 24 + size
                frame += 1
            }
        }
        var found: [(String, [[UInt8]])] = []
        for (place, number, page) in pages {
            let terms = BTreePage.values(page, isFirst: number == 1).compactMap(FTS5Leaf.terms).flatMap { $0 }
            if !terms.isEmpty { found.append((place, terms)) }
        }
        return found
    }

    static func occurrences(of needle: [UInt8], in haystack: [UInt8]) -> [Int] {
        guard let first = needle.first, needle.count <= haystack.count else { return [] }
        var result: [Int] = []
        var index = 0
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first, haystack[index..<index + needle.count].elementsEqual(needle) {
                result.append(index)
            }
            index += 1
        }
        return result
    }
}

/// SQLite's B-tree page format (https://sqlite.org/fileformat2.html): the text and blob values of
/// every cell a page lists, from the part of the payload stored on the page.
enum BTreePage {
    static func values(_ page: ArraySlice<UInt8>, isFirst: Bool) -> [[UInt8]] {
        let bytes = Array(page)
        let header = isFirst ? 100 : 0
        guard bytes.count > header + 12 else { return [] }
        let type = bytes[header]
        guard [2, 5, 10, 13].contains(type) else { return [] }
        let cellCount = Int(bigEndian: bytes[header + 3..<header + 5])
        let pointers = header + (type == 2 || type == 5 ? 12 : 8)
        let usable = bytes.count
        var values: [[UInt8]] = []
        for cell in 0..<cellCount {
            let slot = pointers + 2 * cell
            guard slot + 2 <= bytes.count else { break }
            var offset = Int(bigEndian: bytes[slot..<slot + 2])
            guard offset < bytes.count else { continue }
            if type == 5 { continue }  // interior table cells hold no payload
            if type == 2 { offset += 4 }
            guard let (payloadSize, afterSize) = Varint.read(bytes, offset) else { continue }
            offset = afterSize
            if type == 13 {
                guard let (_, afterRowid) = Varint.read(bytes, offset) else { continue }
                offset = afterRowid
            }
            let maxLocal = type == 13 ? usable - 35 : (usable - 12) * 64 / 255 - 23
            let minLocal = (usable - 12) * 32 / 255 - 23
            var local = Int(payloadSize)
            if local > maxLocal {
                let spill = minLocal + (local - minLocal) % (usable - 4)
                local = spill <= maxLocal ? spill : minLocal
            }
            let end = min(bytes.count, offset + local)
            guard offset < end else { continue }
            values += record(Array(bytes[offset..<end]))
        }
        return values
    }

    /// The text and blob values of a record (as far as the bytes go).
    static func record(_ bytes: [UInt8]) -> [[UInt8]] {
        guard let (headerSize, first) = Varint.read(bytes, 0), headerSize <= bytes.count else { return [] }
        var types: [Int64] = []
        var cursor = first
        while cursor < Int(headerSize) {
            guard let (type, next) = Varint.read(bytes, cursor) else { return [] }
            types.append(type)
            cursor = next
        }
        var values: [[UInt8]] = []
        var offset = Int(headerSize)
        for type in types {
            let size: Int
            switch type {
            case 0, 8, 9: size = 0
            case 1, 2, 3, 4: size = Int(type)
            case 5: size = 6
            case 6, 7: size = 8
            case 10, 11: return values
            default: size = Int(type - 12) / 2
            }
            if type >= 12 {
                let end = min(bytes.count, offset + size)
                if offset < end { values.append(Array(bytes[offset..<end])) }
            }
            offset += size
            if offset >= bytes.count { break }
        }
        return values
    }
}

/// SQLite's variable-length integers (also FTS5's): big-endian 7-bit groups, the ninth byte whole.
enum Varint {
    static func read(_ bytes: [UInt8], _ start: Int) -> (Int64, Int)? {
        var value: Int64 = 0
        var index = start
        for position in 0..<9 {
            guard index < bytes.count else { return nil }
            let byte = bytes[index]
            index += 1
            if position == 8 { return (value << 8 | Int64(byte), index) }
            value = value << 7 | Int64(byte & 0x7F)
            if byte < 0x80 { return (value, index) }
        }
        return nil
    }
}

/// An FTS5 leaf page (SQLite's `fts5_index.c`, "Segment leaf pages"): a 4-byte header (offset of
/// the first rowid, offset of the page footer), terms with their doclists, and a footer of
/// delta-encoded term offsets. The first term on a page is stored whole (length, bytes); every
/// later one as (bytes shared with the previous term, new length, new bytes).
enum FTS5Leaf {
    /// The terms of a leaf, rebuilt from their prefix compression, without FTS5's index-prefix
    /// byte; nil when the bytes are not a well-formed leaf.
    static func terms(_ leaf: [UInt8]) -> [[UInt8]]? {
        guard leaf.count >= 4 else { return nil }
        let firstRowid = Int(bigEndian: leaf[0..<2])
        let footer = Int(bigEndian: leaf[2..<4])
        guard footer >= 4, footer <= leaf.count, firstRowid <= footer else { return nil }
        var offsets: [Int] = []
        var cursor = footer
        var total = 0
        while cursor < leaf.count {
            guard let (delta, next) = Varint.read(leaf, cursor), delta > 0 || offsets.isEmpty else { return nil }
            total += Int(delta)
            guard total >= 4, total < footer else { return nil }
            offsets.append(total)
            cursor = next
        }
        var terms: [[UInt8]] = []
        var previous: [UInt8] = []
        for (index, offset) in offsets.enumerated() {
            var keep: Int64 = 0
            var position = offset
            if index > 0 {
                guard let (shared, next) = Varint.read(leaf, position) else { return nil }
                keep = shared
                position = next
            }
            guard let (length, start) = Varint.read(leaf, position), keep <= previous.count,
                start + Int(length) <= footer
            else { return nil }
            let term = Array(previous.prefix(Int(keep))) + leaf[start..<start + Int(length)]
            terms.append(term)
            previous = term
        }
        return terms.map(stripIndexPrefix)
    }

    /// Terms of the main index start with the byte `0`; prefix indexes use other digits.
    static func stripIndexPrefix(_ term: [UInt8]) -> [UInt8] {
        guard let first = term.first, (0x30...0x39).contains(first) else { return term }
        return Array(term.dropFirst())
    }
}

extension Int {
    /// A big-endian unsigned integer from a few bytes.
    init(bigEndian bytes: ArraySlice<UInt8>) {
        self = bytes.reduce(0) { $0 << 8 | Int($1) }
    }
}
