import KakehashiShared
import Testing

/// The closed value sets code branches on (`ConfidentialityLevel`, `CaseStage`): their domains,
/// labels and defaults, and what a value this build does not know means.
@Suite struct ClosedValueTests {
    @Test func theLevelAndStageDomainsAreMadeFromTheEnumsInTheirOrderWithTheirLabels() {
        let levels = Domains.level.members.map { "\($0.value) \($0.label)" }
        #expect(levels == ["open 共有", "confidential 秘", "strict 厳秘", "secret 機密"])
        #expect(Domains.level.values == ConfidentialityLevel.allCases.map(\.rawValue))
        let stages = Domains.caseStage.members.map { "\($0.value) \($0.label)" }
        #expect(
            stages == [
                "intake 受付", "discovery 課題発掘", "matching マッチング", "prototyping 試作・評価",
                "contract 契約・ライセンス", "funding 補助金・資金", "launch 事業化", "follow-up フォローアップ",
                "closed 完了", "dropped 中止",
            ])
        #expect(Domains.caseStage.values == CaseStage.allCases.map(\.rawValue))
        #expect(Domains.caseStage.canonical("試作・評価") == CaseStage.prototyping.rawValue)
    }

    @Test func aCaseDefaultsToAKnownStageAndLevel() throws {
        let schema = Entity.case.schema
        #expect(CaseStage(rawValue: schema.spec("stage").textDefault) == .intake)
        #expect(ConfidentialityLevel(rawValue: schema.spec("level").textDefault) == .confidential)
        #expect(schema.spec("title").label == "件名")
    }

    @Test func stagesMoveOnUntilOneEndsTheCase() {
        let moving = CaseStage.allCases.filter { !$0.endsCase }
        #expect(moving.map(\.progress) == Array(0..<8).map(Optional.some))
        #expect(CaseStage.allCases.filter(\.endsCase) == [.closed, .dropped])
        #expect(CaseStage.closed.progress == nil && CaseStage.dropped.progress == nil)
    }

    @Test func anUnsetOrUnknownLevelIsTreatedAsConfidential() {
        #expect(AccessPolicy.CaseFacts(RecordState(entity: .case, id: "c")).level == "confidential")
        let viewers = [
            AccessPolicy.Viewer(advisor: "a", program: "p", role: nil, active: true),
            AccessPolicy.Viewer(advisor: "b", program: "q", role: nil, active: true),
            AccessPolicy.Viewer(advisor: "c", program: "p", role: nil, active: true),
        ]
        for viewer in viewers {
            func facts(_ level: String) -> AccessPolicy.CaseFacts {
                AccessPolicy.CaseFacts(level: level, owner: "a", participants: [], program: "p")
            }
            let confidential = facts("confidential")
            let unknown = facts("top-secret")
            #expect(AccessPolicy.access(to: unknown, for: viewer) == AccessPolicy.access(to: confidential, for: viewer))
            #expect(AccessPolicy.rights(to: unknown, for: viewer) == AccessPolicy.rights(to: confidential, for: viewer))
        }
        #expect(
            AccessPolicy.access(
                to: .init(level: "top-secret", owner: "a", participants: [], program: "p"), for: viewers[1]) == .stub)
    }
}
