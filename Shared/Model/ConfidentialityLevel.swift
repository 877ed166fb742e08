/// A case's confidentiality level, after the universities' secret-information rules
/// (Docs/design.md §6), as its `level` field stores it. `AccessPolicy` decides by it who reads
/// and changes a case, and `ExportProfile` which export rows show a case in full.
public enum ConfidentialityLevel: String, Sendable, Hashable, CaseIterable, DomainValue {
    /// Every active advisor reads the case in full.
    case open
    /// The owner, participants and advisors of the case's program read the case in full; everyone
    /// else sees its stub.
    case confidential
    /// Only the owner and participants know of the case.
    case strict
    /// As `strict`, and never a row in any export: only part of the indicators' counts.
    case secret

    public var label: String {
        switch self {
        case .open: "共有"
        case .confidential: "秘"
        case .strict: "厳秘"
        case .secret: "機密"
        }
    }
}
