import KakehashiShared
import Testing

/// One company is one organization, decided by pure functions every replica runs alike.
@Suite struct OrganizationIdentityTests {
    typealias Member = OrganizationIdentity.Member

    @Test func theIdOfAnOrganizationWithANumberComesFromTheNumberAlone() throws {
        let id = OrganizationIdentity.recordID(corporateNumber: "3020001012345")
        #expect(id == OrganizationIdentity.recordID(corporateNumber: "3020001012345"))
        #expect(RecordID.canonicalUUID(id) == id)
        #expect(Array(id)[14] == "8", "a version 8 UUID")
        #expect(id != OrganizationIdentity.recordID(corporateNumber: "2020001077777"))
        #expect(try Entity.organization.schema.validateID(id, field: "id") == id)
    }

    @Test func sameNumberAndMergesFormOneGroupWhateverTheOrder() {
        let members = [
            Member(id: "0000000a", corporateNumber: "3020001012345", mergedInto: nil, deleted: false),
            Member(id: "0000000b", corporateNumber: "3020001012345", mergedInto: nil, deleted: false),
            Member(id: "0000000c", corporateNumber: nil, mergedInto: "0000000b", deleted: false),
            Member(id: "0000000d", corporateNumber: nil, mergedInto: nil, deleted: false),
            Member(id: "00000001", corporateNumber: nil, mergedInto: "0000000c", deleted: true),
        ]
        let expected = OrganizationIdentity.representatives(members)
        #expect(expected["0000000a"] == "0000000a")
        #expect(expected["0000000b"] == "0000000a")
        #expect(expected["0000000c"] == "0000000a")
        #expect(expected["00000001"] == "0000000a", "a deleted record still finds its company")
        #expect(expected["0000000d"] == "0000000d")
        var generator = SplitMix64(seed: 12)
        for _ in 0..<50 {
            #expect(OrganizationIdentity.representatives(members.shuffled(using: &generator)) == expected)
        }
    }

    @Test func theRecordMergedIntoIsKeptAndCrossedMergesStillAgree() {
        // `org merge b a`: a is merged into b, so b represents both although a's id is smaller.
        let merged = [
            Member(id: "0000000a", corporateNumber: nil, mergedInto: "0000000b", deleted: false),
            Member(id: "0000000b", corporateNumber: nil, mergedInto: nil, deleted: false),
        ]
        #expect(OrganizationIdentity.representatives(merged)["0000000a"] == "0000000b")
        // Two people merged each into the other at once: the smallest id, on every replica.
        let crossed = [
            Member(id: "0000000a", corporateNumber: nil, mergedInto: "0000000b", deleted: false),
            Member(id: "0000000b", corporateNumber: nil, mergedInto: "0000000a", deleted: false),
        ]
        #expect(OrganizationIdentity.representatives(crossed) == ["0000000a": "0000000a", "0000000b": "0000000a"])
        #expect(
            OrganizationIdentity.representatives(crossed.reversed()) == OrganizationIdentity.representatives(crossed))
        // The representative deleted: the next live record stands for the company.
        let deleted = [
            Member(id: "0000000a", corporateNumber: "3020001012345", mergedInto: nil, deleted: true),
            Member(id: "0000000b", corporateNumber: "3020001012345", mergedInto: nil, deleted: false),
        ]
        #expect(OrganizationIdentity.representatives(deleted)["0000000a"] == "0000000b")
        // The company's own record (its id derived from its number) represents it, though a
        // duplicate added later with the same number has a smaller id.
        let company = OrganizationIdentity.recordID(corporateNumber: "3020001012345")
        let duplicate = "00000000-0000-7000-8000-000000000001"
        let numbered = [
            Member(id: company, corporateNumber: "3020001012345", mergedInto: nil, deleted: false),
            Member(id: duplicate, corporateNumber: "3020001012345", mergedInto: nil, deleted: false),
        ]
        #expect(OrganizationIdentity.representatives(numbered)[duplicate] == company)
    }

    /// Random organizations with random numbers, merges (chains, cycles, dangling targets) and
    /// deletes: the answer never depends on order, every live record has a live representative
    /// in its own group, records that share a number or a merge share a representative, and a
    /// representative is its own.
    @Test func representativesAreAFunctionOfTheRecordsAlone() {
        var generator = SplitMix64(seed: 20_261_202)
        let numbers = ["3020001012345", "2020001077777", "8010001034567"]
        for _ in 0..<300 {
            let ids = (0..<Int.random(in: 1...8, using: &generator)).map { String(format: "%08x", $0 * 7 + 1) }
            let members = ids.map { id in
                Member(
                    id: id, corporateNumber: generator.chance(0.4) ? generator.pick(numbers) : nil,
                    mergedInto: generator.chance(0.4) ? generator.pick(ids + ["ffffffff"]) : nil,
                    deleted: generator.chance(0.2))
            }
            let expected = OrganizationIdentity.representatives(members)
            #expect(OrganizationIdentity.representatives(members.shuffled(using: &generator)) == expected)
            let byID = Dictionary(uniqueKeysWithValues: members.map { ($0.id, $0) })
            for member in members {
                guard let representative = expected[member.id] else {
                    #expect(member.deleted, "a live record always has a representative")
                    continue
                }
                #expect(byID[representative]?.deleted == false)
                #expect(expected[representative] == representative)
                if let target = member.mergedInto, byID[target] != nil {
                    #expect(expected[target] == representative)
                }
                for other in members
                where other.corporateNumber != nil && other.corporateNumber == member.corporateNumber {
                    #expect(expected[other.id] == representative)
                }
            }
        }
    }

    @Test func namesMatchAcrossLegalFormsWidthsAndSpaces() {
        let key = OrganizationIdentity.nameKey("株式会社川崎精密製作所")
        #expect(OrganizationIdentity.nameKey("（株）川崎精密製作所") == key)
        #expect(OrganizationIdentity.nameKey("㈱ 川崎精密製作所") == key)
        #expect(OrganizationIdentity.nameKey("川崎精密製作所 株式会社") == key)
        #expect(OrganizationIdentity.nameKey("株式会社横浜精密製作所") != key)
        #expect(OrganizationIdentity.nameKey("ＡＢＣテック株式会社") == OrganizationIdentity.nameKey("abcテック（株）"))
    }
}

/// Dates that cannot be true are refused, on the laptop and by the server, with the same rule.
@Suite struct ActivityDateTests {
    // 2026-04-01 10:00 JST.
    let now: Int64 = 1_775_005_200_000

    @Test func anActivityMayBeDatedUpToTomorrowInJapan() throws {
        #expect(ActivityDate.latest(nowMillis: now).description == "2026-04-02")
        #expect(ActivityDate.problem(with: "2026-04-01", nowMillis: now) == nil)
        #expect(ActivityDate.problem(with: "2026-04-02", nowMillis: now) == nil)
        #expect(ActivityDate.problem(with: "2019-06-03", nowMillis: now) == nil)
        let problem = try #require(ActivityDate.problem(with: "2029-04-01", nowMillis: now))
        #expect(problem.contains("2029-04-01") && problem.contains("未来") && problem.contains("2026-04-02"))
        #expect(ActivityDate.problem(with: "2026-04-03", nowMillis: now) != nil)
        // At 23:30 JST on 2026-04-01 (14:30 UTC) tomorrow is still 2026-04-02.
        #expect(ActivityDate.latest(nowMillis: now + 13 * 3_600_000 + 1_800_000).description == "2026-04-02")
    }
}
