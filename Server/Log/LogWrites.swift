import Foundation
import KakehashiShared

/// What a log operation writes when it ends, in the same transaction as its reads. A store
/// makes them in this order: changes, event moves, states, then the pull bookkeeping.
struct LogWrites: Sendable {
    /// Changes to append; the store numbers them (`seq`) in this order, after the log's head.
    var changes: [Insert] = []
    /// Events already logged whose `case` was written: every logged change of the event moves to
    /// its new case (the changes appended with it carry that case already).
    var eventCases: [EventCase] = []
    /// Merged states to store, replacing the stored ones.
    var states: [State] = []
    /// Forget the levels a device was handed in generations after this one: responses it never
    /// stored.
    var forgetBookkeeping: LogReads.DeviceRead?
    /// Levels handed out by this response: one device's, at most one per case
    /// (`PullBookkeeping.writes(handingOut:)`).
    var levels: [Level] = []
    /// The device's new generation, when this response handed out levels.
    var deviceGeneration: (device: DeviceID, generation: Int64)?

    var isEmpty: Bool {
        changes.isEmpty && eventCases.isEmpty && states.isEmpty && forgetBookkeeping == nil && levels.isEmpty
            && deviceGeneration == nil
    }

    /// One change for the log, with the columns pulls filter on.
    struct Insert: Sendable {
        let change: Change
        /// The case the change belongs to (a case's own id, an event's current case), or nil.
        let caseID: String?
        /// For a change that moved an event, the case it left.
        let movedFrom: String?
        /// The change as the log stores it (`StoreCoding.stored`).
        let stored: StoredChange
    }

    struct EventCase: Sendable {
        let event: String
        let caseID: String?
    }

    /// A record's merged state as the store keeps it (`StoreCoding.pack`).
    struct State: Sendable {
        let ref: RecordRef
        let packed: Data
    }

    /// A level handed to `device` for a case under `generation`. The store keeps it and, of the
    /// older rows, only the newest at or below `kept` (the generation the device has stored,
    /// which a retry may still fall back to); older rows can never matter again.
    struct Level: Sendable {
        let device: DeviceID
        let caseID: String
        let generation: Int64
        let level: AccessPolicy.Access
        let kept: Int64
    }
}
