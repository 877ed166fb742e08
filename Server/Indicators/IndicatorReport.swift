import KakehashiShared

/// The indicators per Japanese fiscal year (April 1 – March 31, dates in Japan time), program and
/// prefecture, and the referrals between programs. Attribution (`Docs/exports.md`): an event
/// counts for its author's program, a case for its funding program, and each case for one
/// prefecture, so no total counts a case twice.
public struct IndicatorReport: Sendable, Encodable {
    public enum Metric: String, Sendable, CaseIterable, Encodable {
        case consultations, visits, matchings, prototypes, contracts, licenses, subsidies, launches, publicity
        case newCases = "new_cases"
        case closedCases = "closed_cases"
        case referralsOut = "referrals_out"
        case referralsIn = "referrals_in"
        case stageIntake = "stage_intake"
        case stageDiscovery = "stage_discovery"
        case stageMatching = "stage_matching"
        case stagePrototyping = "stage_prototyping"
        case stageContract = "stage_contract"
        case stageFunding = "stage_funding"
        case stageLaunch = "stage_launch"
        case stageFollowUp = "stage_follow-up"
        case stageClosed = "stage_closed"
        case stageDropped = "stage_dropped"

        /// The Japanese column header.
        public var label: String {
            switch self {
            case .consultations: "相談"
            case .visits: "訪問"
            case .matchings: "マッチング"
            case .prototypes: "試作"
            case .contracts: "契約"
            case .licenses: "ライセンス"
            case .subsidies: "補助金等"
            case .launches: "製品化"
            case .publicity: "広報"
            case .newCases: "新規案件"
            case .closedCases: "終了案件"
            case .referralsOut: "他事業への紹介"
            case .referralsIn: "他事業からの紹介"
            default: "年度末：" + (stage?.label ?? "")
            }
        }

        /// For the year-end stage counts, the stage counted.
        public var stage: CaseStage? {
            switch self {
            case .stageIntake: .intake
            case .stageDiscovery: .discovery
            case .stageMatching: .matching
            case .stagePrototyping: .prototyping
            case .stageContract: .contract
            case .stageFunding: .funding
            case .stageLaunch: .launch
            case .stageFollowUp: .followUp
            case .stageClosed: .closed
            case .stageDropped: .dropped
            default: nil
            }
        }

        /// The event kinds a metric counts.
        static func counting(eventKind kind: String) -> Metric? {
            switch kind {
            case "consultation", "meeting": .consultations
            case "visit": .visits
            case "matching": .matchings
            case "prototype": .prototypes
            case "contract": .contracts
            case "license": .licenses
            case "subsidy": .subsidies
            case "publicity": .publicity
            default: nil
            }
        }

        static func yearEnd(_ stage: CaseStage) -> Metric? { allCases.first { $0.stage == stage } }

        /// The activity figures charted in the HTML report.
        public static let activity: [Metric] = [
            .consultations, .visits, .matchings, .prototypes, .contracts, .licenses, .subsidies, .launches,
            .publicity,
        ]
    }

    public struct Row: Sendable, Encodable, Hashable {
        public let fiscalYear: Int
        public let program: String
        public let ministry: String
        /// A prefecture code, or nil when the case's prefecture is unknown.
        public let prefecture: String?
        public var counts: [String: Int]

        public func count(_ metric: Metric) -> Int { counts[metric.rawValue] ?? 0 }
    }

    /// Referral events from an advisor of one program to an advisor of another.
    public struct Referral: Sendable, Encodable, Hashable {
        public let fiscalYear: Int
        public let fromProgram: String
        public let toProgram: String
        public let count: Int
    }

    /// Each fiscal year's figures over every program, counted on distinct cases and events
    /// (not by adding the rows), so a case supported by two programs is counted once.
    public struct Total: Sendable, Encodable, Hashable {
        public let fiscalYear: Int
        public let counts: [String: Int]
    }

    /// The cases of one funding program that had reached each stage of the funnel by a fiscal
    /// year's end (today, for the year still running): a case counts at every stage up to the
    /// furthest one written for it by then, so a case closed after prototyping counts at intake,
    /// matching and prototyping.
    public struct Funnel: Sendable, Encodable, Hashable {
        public let fiscalYear: Int
        public let program: String
        /// Stage code → cases that had reached it.
        public let reached: [String: Int]

        public func count(_ stage: CaseStage) -> Int { reached[stage.rawValue] ?? 0 }
    }

    /// The funnel's stages, in order (Docs/design.md §1: intake → matching → prototyping → contract →
    /// funding → launch).
    public static let funnelStages: [CaseStage] = [.intake, .matching, .prototyping, .contract, .funding, .launch]

    public let fiscalYears: [Int]
    public let rows: [Row]
    public let referrals: [Referral]
    public let totals: [Total]
    public let funnels: [Funnel]
    /// Program id → name and ministry, for labels.
    public let programs: [String: ProgramLabel]

    public struct ProgramLabel: Sendable, Encodable, Hashable {
        public let name: String
        public let ministry: String
    }
}
