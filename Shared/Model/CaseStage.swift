/// Where a case stands on its way from first contact to launch (Docs/design.md §1), as its
/// `stage` field stores it.
public enum CaseStage: String, Sendable, Hashable, CaseIterable, DomainValue {
    case intake
    case discovery
    case matching
    case prototyping
    case contract
    case funding
    case launch
    case followUp = "follow-up"
    case closed
    case dropped

    public var label: String {
        switch self {
        case .intake: "受付"
        case .discovery: "課題発掘"
        case .matching: "マッチング"
        case .prototyping: "試作・評価"
        case .contract: "契約・ライセンス"
        case .funding: "補助金・資金"
        case .launch: "事業化"
        case .followUp: "フォローアップ"
        case .closed: "完了"
        case .dropped: "中止"
        }
    }

    /// How far along the way the stage is, from 0 (`intake`) to 7 (`follow-up`); nil for the
    /// stages that end a case without moving it on.
    public var progress: Int? {
        switch self {
        case .intake: 0
        case .discovery: 1
        case .matching: 2
        case .prototyping: 3
        case .contract: 4
        case .funding: 5
        case .launch: 6
        case .followUp: 7
        case .closed, .dropped: nil
        }
    }

    /// Whether the stage ends the case: `closed` (done) or `dropped` (given up).
    public var endsCase: Bool {
        switch self {
        case .closed, .dropped: true
        default: false
        }
    }
}
