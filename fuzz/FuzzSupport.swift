import Foundation

/// Shared by the fuzz targets: each is compiled together with the `Shared/` sources into one
/// executable, so these helpers see the library's internals too.
enum Fuzz {
    /// Stops the run with a message libFuzzer reports as a crash, with the input saved.
    static func fail(_ message: @autoclosure () -> String) -> Never {
        fatalError(message())
    }

    /// The merge properties a change must keep whatever its content: applying it twice changes
    /// nothing the second time, and the binary state codec reads back what it wrote.
    static func checkMerge(_ changes: [Change]) {
        var states: [String: RecordState] = [:]
        for change in changes {
            let key = change.entity.rawValue + "/" + change.record
            var state = states[key] ?? RecordState(entity: change.entity, id: change.record)
            _ = state.apply(change)
            let once = state
            if state.apply(change) || state != once { fail("applying \(change.id) twice changed the state") }
            states[key] = state
        }
        for state in states.values {
            do {
                let decoded = try RecordState(entity: state.entity, id: state.id, binary: state.binaryEncoded())
                if decoded != state { fail("binary codec round trip changed \(state.id)") }
            } catch {
                fail("binary codec could not read its own output for \(state.id): \(error)")
            }
        }
    }

    /// The changes that pass validation, in canonical form; validation is idempotent, and a valid
    /// change survives a JSON round trip unchanged.
    static func validChanges(_ changes: [Change]) -> [Change] {
        changes.compactMap { change in
            guard let valid = try? change.validated() else { return nil }
            guard let again = try? valid.validated(), again == valid else {
                fail("validating the canonical form of \(change.id) changed or refused it")
            }
            guard let data = try? JSONEncoder().encode(valid),
                let decoded = try? JSONDecoder().decode(Change.self, from: data), decoded == valid
            else { fail("a valid change \(valid.id) did not survive a JSON round trip") }
            return valid
        }
    }
}
