import Foundation
import Hummingbird
import KakehashiServer
import KakehashiShared
import Testing

/// The server's own checks on what a laptop may write, whatever the laptop checked: dates that
/// cannot be true, a new case in someone else's program, and merges of two companies. Each is a
/// per-change rejection; the rest of the batch applies (both stores, real device tokens).
@Suite struct RecordRulesTests {
    /// Today in Japan and the day after tomorrow, as `YYYY-MM-DD`.
    static func days() -> (today: String, tomorrow: String, afterTomorrow: String) {
        let now = Laptop.now()
        return (
            CalendarDate(japanTimeOf: now).description, CalendarDate(japanTimeOf: now + 86_400_000).description,
            CalendarDate(japanTimeOf: now + 2 * 86_400_000).description
        )
    }

    @Test(arguments: StoreKind.available)
    func anActivityDatedAfterTomorrowIsRefusedAndTheRestOfTheBatchApplies(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let owner = try await server.advisor("山田太郎", program: "business-production", client: client)
            let made = try await AccessTests.makeCase(by: owner)
            let days = Self.days()
            let typo = owner.create(
                .event,
                [
                    "case": .string(made.case), "kind": .string("visit"), "date": .string("2029-06-03"),
                    "body": .string("工場を訪問し、バリ取り工程の課題を聴取した。"), "author": .string(owner.advisor),
                ])
            let fine = owner.create(
                .event,
                [
                    "case": .string(made.case), "kind": .string("meeting"), "date": .string(days.tomorrow),
                    "body": .string("明朝の打合せの準備"), "author": .string(owner.advisor),
                ])
            let redate = owner.write(.event, fine, "date", .string(days.afterTomorrow))
            let results = try await owner.sync()
            let refused = results.filter { $0.status == .rejected }
            #expect(refused.count == 2, "\(results)")
            #expect(refused.allSatisfy { $0.code == .invalid && $0.reason?.contains("未来") == true })
            #expect(refused.contains { $0.id == redate.id })
            #expect(results.filter { $0.status == .accepted }.count == results.count - 2)
            let stored = try await server.store.record(.event, typo)
            #expect(stored?.value("body").stringValue?.contains("バリ取り") == true)
            #expect(stored?.value("date").isNull == true, "the typed year never reached the log")
            #expect(try await server.store.record(.event, fine)?.value("date") == .string(days.tomorrow))
            // Correcting the date is an ordinary edit.
            owner.write(.event, typo, "date", .string(days.today))
            #expect(try await owner.sync().allSatisfy { $0.status == .accepted })
            #expect(try await server.store.record(.event, typo)?.value("date") == .string(days.today))
        }
    }

    @Test(arguments: StoreKind.available)
    func aNewCaseBelongsToItsCreatorsProgram(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let producer = try await server.advisor("山田太郎", program: "business-production", client: client)
            let theirs = producer.create(
                .case,
                [
                    "owner": .string(producer.advisor), "program": .string("matching-planner"),
                    "title": .string("他事業の実績にする案件"), "kind": .string("consultation"),
                ])
            let results = try await producer.sync()
            let refused = results.filter { $0.status == .rejected }
            #expect(refused.count == 1 && refused.first?.code == .forbidden, "\(results)")
            #expect(try await server.store.record(.case, theirs)?.value("program").isNull == true)
        }
    }

    @Test(arguments: StoreKind.available)
    func twoCompaniesWithDifferentNumbersCannotBeMergedAndANumberStaysWithItsCompany(kind: StoreKind) async throws {
        let server = try await TestServer.make(kind)
        try await server.run { client in
            let laptop = try await server.advisor("山田太郎", program: "business-production", client: client)
            let kawasaki = laptop.create(
                .organization,
                [
                    "name": .string("株式会社川崎精密製作所"), "kind": .string("sme"),
                    "corporate_number": .string("3020001012345"),
                ])
            let yokohama = laptop.create(
                .organization,
                [
                    "name": .string("横浜表面処理株式会社"), "kind": .string("sme"),
                    "corporate_number": .string("2020001077777"),
                ])
            let branch = laptop.create(.organization, ["name": .string("川崎精密 第二工場"), "kind": .string("sme")])
            #expect(try await laptop.sync().allSatisfy { $0.status == .accepted })
            let wrong = laptop.write(.organization, yokohama, "merged_into", .string(kawasaki))
            let itself = laptop.write(.organization, branch, "merged_into", .string(branch))
            let numberAway = laptop.write(.organization, kawasaki, "merged_into", .string(branch))
            let right = laptop.write(.organization, branch, "merged_into", .string(kawasaki))
            let results = try await laptop.sync()
            let byID = Dictionary(uniqueKeysWithValues: results.map { ($0.id, $0) })
            #expect(byID[wrong.id]?.status == .rejected && byID[wrong.id]?.code == .invalid)
            #expect(byID[wrong.id]?.reason?.contains("別の会社") == true)
            #expect(byID[itself.id]?.status == .rejected)
            #expect(byID[numberAway.id]?.status == .rejected && byID[numberAway.id]?.reason?.contains("同じ法人番号") == true)
            #expect(byID[right.id]?.status == .accepted)
            #expect(try await server.store.record(.organization, yokohama)?.value("merged_into").isNull == true)
        }
    }
}
