import KakehashiShared

/// Who an export is for, and so which rows it holds and which of them in full
/// (`Docs/exports.md`).
///
/// - `cabinet-office`: every program's cases and events.
/// - `meti`, `mext`: cases funded by that ministry's programs, events written by its programs'
///   advisors or on those cases, every `open` case, and the cases those events are on.
///
/// In every profile, `open` rows are in full; `confidential` rows are in full only for the
/// ministry funding the case (the program's own people, as on the laptops), metadata otherwise;
/// `strict` rows are always metadata only; `secret` cases and their events never appear as rows,
/// only inside the indicators' counts.
public enum ExportProfile: String, Sendable, CommandLineChoice {
    case cabinetOffice = "cabinet-office"
    case meti
    case mext

    public static let optionName = "profile"

    /// The ministry whose own confidential cases this profile holds in full.
    public var ministry: String {
        switch self {
        case .cabinetOffice: "cao"
        case .meti: "meti"
        case .mext: "mext"
        }
    }

    /// Every program's rows, or only those attributed to `ministry`.
    public var coversAllPrograms: Bool { self == .cabinetOffice }

    /// The ministry whose programs' indicator rows this profile holds; nil for every program's.
    var indicatorMinistry: String? { coversAllPrograms ? nil : ministry }

    /// Whether a case's title, summary, events' bodies and organizations' names may be in this
    /// profile's rows (never for a level this build does not know).
    func showsContent(of item: ReportData.Case, in data: ReportData) -> Bool {
        switch item.knownLevel {
        case .open: true
        case .confidential: data.ministry(ofProgram: item.program) == ministry
        case .strict, .secret, nil: false
        }
    }

    /// Whether a case may appear as a row at all in any profile (a case of a level this build does
    /// not know does, as metadata only).
    static func isExportable(_ item: ReportData.Case) -> Bool { item.knownLevel != .secret }
}
