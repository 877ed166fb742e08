/// Two writes to the same register that did not see each other, kept so nobody's work is lost
/// silently. Last-writer-wins has already picked `winner` on every replica alike; the conflict
/// lets a person review `loser` and decide (`kakehashi conflicts resolve`).
public struct Conflict: Sendable, Hashable, Codable, Identifiable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// Two different values for one field (or add versus remove of one set element).
        case value
        /// A record was deleted by someone who had not seen an edit to it.
        case deleteVersusEdit = "delete-vs-edit"
    }

    public let entity: Entity
    public let record: String
    public let register: RegisterKey
    public let kind: Kind
    public let winner: Write
    public let loser: Write

    /// For a delete-versus-edit conflict, whichever of `winner` and `loser` is the delete.
    public var tombstone: Write? {
        guard kind == .deleteVersusEdit else { return nil }
        return deleteWon ? winner : loser
    }

    /// For a delete-versus-edit conflict, whether the record currently stands deleted.
    public let deleteWon: Bool

    public init(
        entity: Entity, record: String, register: RegisterKey, kind: Kind, winner: Write, loser: Write,
        deleteWon: Bool = false
    ) {
        self.entity = entity
        self.record = record
        self.register = register
        self.kind = kind
        self.winner = winner
        self.loser = loser
        self.deleteWon = deleteWon
    }

    /// Stable across replicas: the record, the register and the losing write identify it.
    public var id: String { "\(record)/\(register)/\(loser.change)" }
}
