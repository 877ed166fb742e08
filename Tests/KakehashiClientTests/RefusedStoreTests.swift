import Foundation
import GRDB
import KakehashiShared
import Testing

@testable import KakehashiClient

/// The refused store: own changes the server refused or a purge took away, kept in full.
@Suite struct RefusedStoreTests {
    func makeCase(_ laptop: TestLaptop) throws -> String {
        try laptop.client.create(
            .case, RecordInput(values: ["title": "精密加工技術の試作マッチング", "kind": "ip-business-matching"]))
    }

    @Test func aRefusedEditIsKeptInFullWhileTheRecordGoesBackToTheServersValue() async throws {
        let server = InProcessServer()
        let laptop = try await TestLaptop.enroll(server, name: "山田太郎")
        let caseID = try makeCase(laptop)
        try await laptop.sync()
        await server.setForbidden(["summary"])
        let summaryText = "開放特許を活用した精密加工の試作\n量産化まで支援する"
        try laptop.client.update(.case, id: caseID, RecordInput(values: ["summary": summaryText]))

        let summary = try await laptop.sync()
        #expect(summary.refused == 1 && summary.keptFromPurges == 0)
        #expect(try laptop.client.show(.case, id: caseID).text("summary").isEmpty)
        let entries = try laptop.client.refused()
        #expect(entries.count == 1)
        let entry = try #require(entries.first)
        #expect(entry.cause == "rejected" && entry.code == "forbidden" && entry.reason == "summary may not be changed")
        #expect(entry.title == "精密加工技術の試作マッチング" && entry.caseID == caseID)
        #expect(entry.changes.map(\.value) == [.string(summaryText)])
        #expect(entry.changes.allSatisfy { !$0.onServer })
        #expect(try laptop.client.status().refused == 1)

        // A second sync keeps the entry and adds nothing.
        #expect(try await laptop.sync().refused == 0)
        #expect(try laptop.client.refused().count == 1)
    }

    @Test func aPurgeKeepsOwnChangesSentAndUnsentBeforeDeletingThem() async throws {
        let server = InProcessServer()
        let laptop = try await TestLaptop.enroll(server, name: "佐藤花子")
        let caseID = try makeCase(laptop)
        let eventID = try laptop.client.create(
            .event, RecordInput(values: ["case": caseID, "kind": "visit", "body": "工場を訪問し課題を聴取"]))
        try await laptop.sync()
        try laptop.client.update(.case, id: caseID, RecordInput(values: ["stage": "matching"]))

        let kept = try laptop.client.store.write { db in
            try ChangeApplier.purge(RecordRef(entity: .case, record: caseID), keptAt: 1_770_000_000_000, in: db)
        }
        #expect(kept == 2)
        #expect(throws: KakehashiError.self) { try laptop.client.show(.case, id: caseID) }
        let entries = try laptop.client.refused()
        #expect(entries.map(\.record) == [caseID, eventID])
        #expect(entries.allSatisfy { $0.cause == "withdrawn" && $0.code == "access-withdrawn" })
        let caseEntry = try #require(entries.first)
        let stage = try #require(caseEntry.changes.last { $0.field == "stage" })
        #expect(stage.value == .string("matching") && !stage.onServer)
        #expect(caseEntry.changes.contains { $0.field == "title" && $0.onServer })
        let eventEntry = try #require(entries.last)
        // The case's title is not the user's to keep once access is gone; the text they typed is.
        #expect(eventEntry.title == nil && eventEntry.caseID == caseID && caseEntry.title == nil)
        #expect(eventEntry.changes.contains { $0.value == .string("工場を訪問し課題を聴取") })
        #expect(eventEntry.keptAt.hasSuffix("+09:00"))
    }

    @Test func entriesAreFoundByAUniquePrefixOrAChangeIDAndRemovedOnlyWhenAsked() async throws {
        let server = InProcessServer()
        let laptop = try await TestLaptop.enroll(server, name: "高橋次郎")
        _ = try makeCase(laptop)
        _ = try makeCase(laptop)
        await server.setForbidden(["title"])
        try await laptop.sync()
        let entries = try laptop.client.refused()
        #expect(entries.count == 2)
        let first = try #require(entries.first)
        #expect(try laptop.client.refused(String(first.id.prefix(9))).id == first.id)
        #expect(try laptop.client.refused(try #require(first.changes.first?.change)).id == first.id)
        let missing = #expect(throws: KakehashiError.self) { try laptop.client.refused("zz") }
        #expect(missing?.field == "id" && missing?.code == .invalidData)
        let empty = #expect(throws: KakehashiError.self) { try laptop.client.refused("") }
        #expect(empty?.field == "id")

        try laptop.client.clearRefused(first.id)
        #expect(try laptop.client.refused().map(\.id) == [entries[1].id])
        #expect(try laptop.client.clearAllRefused() == 1)
        #expect(try laptop.client.refused().isEmpty)
    }
}
