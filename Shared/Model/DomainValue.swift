/// A closed value set that code branches on, as an enum: each case's raw value is the string that
/// records and the wire carry, and `label` is the Japanese name users see and may type. Its
/// `EnumDomain` in `Domains` is made from the cases, so the values and their labels are written
/// once, in the enum.
///
/// Records keep the string, not the enum: a value this build does not know (from older data or a
/// newer release) still merges and travels, and code that decides on a value reads it with
/// `init(rawValue:)` and says what an unknown one means there.
public protocol DomainValue: RawRepresentable<String>, CaseIterable, Sendable {
    /// The Japanese label users see.
    var label: String { get }
}
