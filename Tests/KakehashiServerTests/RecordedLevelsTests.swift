import KakehashiShared
import Testing

@testable import KakehashiServer

/// The levels last handed to a device, as a pull reads them from its bookkeeping: the stores
/// return a case's rows in no order, and the newest generation's level is the one that counts.
@Suite struct RecordedLevelsTests {
    @Test func theNewestGenerationOfEachCaseCountsWhateverTheOrderOfItsRows() {
        let rows: [(caseID: String, generation: Int64, level: AccessPolicy.Access)] = [
            ("c-1", 1, .full), ("c-1", 4, .none), ("c-1", 2, .stub),
            ("c-2", 3, .stub), ("c-2", 5, .full),
            ("c-3", 7, .stub),
        ]
        for order in [rows, rows.reversed(), rows.shuffled(), rows.shuffled()] {
            var facts = LogFacts()
            for row in order { facts.recordLevel(row.level, of: row.caseID, generation: row.generation) }
            #expect(facts.recordedLevels == ["c-1": .none, "c-2": .full, "c-3": .stub], "\(order)")
        }
    }
}
