/// One company is one organization (Docs/data-model.md, "One company, one organization").
///
/// Two rules, both pure functions of replicated state, so every replica that holds the same
/// records draws the same conclusion without anyone writing anything:
///
/// - An organization created with a 法人番号 gets an id derived from the number
///   (`recordID(corporateNumber:)`). Two laptops that add the same company offline write the same
///   record, and the merge joins their fields like any concurrent edit.
/// - Organizations that share a 法人番号, or that are joined by `merged_into` (`org merge`), form
///   one group. The group shows as one organization: its representative (`groups`), whose id
///   stands for every member, so cases linked to any member are the company's cases.
public enum OrganizationIdentity {
    /// The facts about one organization record that decide its group.
    public struct Member: Sendable, Hashable {
        public let id: String
        public let corporateNumber: String?
        public let mergedInto: String?
        public let deleted: Bool

        public init(id: String, corporateNumber: String?, mergedInto: String?, deleted: Bool) {
            self.id = id
            self.corporateNumber = corporateNumber
            self.mergedInto = mergedInto
            self.deleted = deleted
        }
    }

    /// The id an organization with this 法人番号 is created under: a version 8 (custom) UUID whose
    /// bits come from the number alone, the same on every laptop. SplitMix64's output is a
    /// bijection of its seed, so different numbers never share an id; the namespace constant keeps
    /// these ids apart from any other derived id.
    /// - Precondition: `corporateNumber` is 13 ASCII digits (a validated corporate number).
    public static func recordID(corporateNumber: String) -> String {
        let number = UInt64(corporateNumber) ?? 0
        var generator = SplitMix64(seed: number ^ 0x6B61_6B65_6861_7368)  // "kakehash"
        let high = generator.next()
        let low = generator.next()
        var bytes = (0..<8).map { UInt8(truncatingIfNeeded: high >> (8 * (7 - $0))) }
        bytes += (0..<8).map { UInt8(truncatingIfNeeded: low >> (8 * (7 - $0))) }
        bytes[6] = (bytes[6] & 0x0F) | 0x80
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let digits = Array("0123456789abcdef")
        let hex = bytes.map { String([digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]]) }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]]
            .map { $0.joined() }
            .joined(separator: "-")
    }

    /// The representative of every organization's group, by id.
    ///
    /// Groups are the connected components of "same 法人番号" and "`merged_into`" over every
    /// record, deleted ones included (a deleted record still joins its neighbours, so a case linked
    /// to it still finds its company). The representative is, among the group's live records not
    /// merged into another, the one whose id is derived from its own 法人番号 (the company's record
    /// every laptop creates), else the smallest id; when every live record is merged (two people
    /// merged two records into each other at once), the same among all live records. A group with
    /// no live record has no representative. The answer depends only on the set of records,
    /// never on the order they are given in.
    public static func representatives(_ members: [Member]) -> [String: String] {
        var parent: [String: String] = [:]
        func find(_ id: String) -> String {
            var root = id
            while let next = parent[root], next != root { root = next }
            var current = id
            while let next = parent[current], next != root {
                parent[current] = root
                current = next
            }
            return root
        }
        func union(_ a: String, _ b: String) {
            let rootA = find(a)
            let rootB = find(b)
            if rootA == rootB { return }
            // Attach the larger root under the smaller, so roots are deterministic too.
            if rootA < rootB { parent[rootB] = rootA } else { parent[rootA] = rootB }
        }
        for member in members { parent[member.id] = parent[member.id] ?? member.id }
        var byNumber: [String: String] = [:]
        for member in members {
            if let target = member.mergedInto, target != member.id {
                parent[target] = parent[target] ?? target
                union(member.id, target)
            }
            if let number = member.corporateNumber {
                if let first = byNumber[number] { union(member.id, first) } else { byNumber[number] = member.id }
            }
        }
        var groups: [String: [Member]] = [:]
        for member in members { groups[find(member.id), default: []].append(member) }
        var representatives: [String: String] = [:]
        for group in groups.values {
            let live = group.filter { !$0.deleted }
            let roots = live.filter { $0.mergedInto == nil || $0.mergedInto == $0.id }
            let candidates = roots.isEmpty ? live : roots
            let derived = candidates.filter { member in
                member.corporateNumber.map { recordID(corporateNumber: $0) == member.id } ?? false
            }
            guard let chosen = (derived.isEmpty ? candidates : derived).map(\.id).min() else { continue }
            for member in group { representatives[member.id] = chosen }
        }
        return representatives
    }

    /// A company name reduced to what tells companies apart: width and case folded (NFKC),
    /// legal-form words (株式会社, (株), 有限会社, 合同会社, …) and spaces and middle dots
    /// removed. `株式会社 川崎精密製作所` and `（株）川崎精密製作所` give the same key.
    public static func nameKey(_ name: String) -> String {
        var text = TextNormalization.foldWidth(name).lowercased()
        for form in legalForms { text = text.replacingOccurrences(of: form, with: "") }
        text.removeAll { $0.isWhitespace || "・･.,、".contains($0) }
        return text
    }

    /// Legal-form words and their abbreviations, after NFKC folding (`（株）` is `(株)`, `㈱` too).
    static let legalForms = [
        "株式会社", "有限会社", "合同会社", "合資会社", "合名会社", "一般社団法人", "公益社団法人", "一般財団法人",
        "公益財団法人", "国立大学法人", "学校法人", "独立行政法人", "国立研究開発法人", "(株)", "(有)", "(同)",
        "co.,ltd.", "co., ltd.", "inc.",
    ]
}
