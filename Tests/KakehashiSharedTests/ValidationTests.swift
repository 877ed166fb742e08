import KakehashiShared
import Testing

@Suite struct ValidationTests {
    let caseSchema = Entity.case.schema
    let orgSchema = Entity.organization.schema

    @Test func unknownEnumValueNamesFieldAndListsValidValues() throws {
        let error = #expect(throws: KakehashiError.self) { try caseSchema.field("stage").parse("finished") }
        #expect(error?.code == .invalidData)
        #expect(error?.field == "stage")
        #expect(error?.description.contains("intake (受付)") == true)
        #expect(error?.description.contains("dropped (中止)") == true)
        #expect(error?.validValues == Domains.caseStage.values)
    }

    @Test func enumAcceptsJapaneseLabelAndStoresCanonicalValue() throws {
        #expect(try orgSchema.field("kind").parse("中小企業") == .string("sme"))
        #expect(try orgSchema.field("prefecture").parse("埼玉県") == .string("saitama"))
    }

    @Test func overLongTitleIsRefusedWithTheLimit() throws {
        let title = String(repeating: "知", count: 201)
        let error = #expect(throws: KakehashiError.self) { try caseSchema.field("title").parse(title) }
        #expect(error?.field == "title")
        #expect(error?.message.contains("at most 200 characters (got 201)") == true)
        #expect(try caseSchema.field("title").parse(String(repeating: "知", count: 200)).stringValue?.count == 200)
    }

    @Test func textIsNFCNormalizedAndTrimmed() throws {
        let decomposed = "  カ\u{3099}イド\n"  // カ + combining dakuten
        #expect(try caseSchema.field("title").parse(decomposed) == .string("ガイド"))
    }

    @Test func singleLineFieldsRefuseNewlinesAndControlCharacters() throws {
        #expect(throws: KakehashiError.self) { try caseSchema.field("title").parse("一行目\n二行目") }
        #expect(throws: KakehashiError.self) { try caseSchema.field("summary").parse("ベル\u{07}") }
        #expect(try caseSchema.field("summary").parse("一行目\r\n二行目") == .string("一行目\n二行目"))
    }

    @Test(arguments: ["7000012050002", "７００００１２０５０００２", "7000-0120-50002"])
    func validCorporateNumbers(_ input: String) throws {
        #expect(try orgSchema.field("corporate_number").parse(input) == .string("7000012050002"))
    }

    @Test(arguments: ["1000012050002", "700001205000", "70000120500021", "700001205000A"])
    func invalidCorporateNumbersNameTheField(_ input: String) throws {
        let error = #expect(throws: KakehashiError.self) { try orgSchema.field("corporate_number").parse(input) }
        #expect(error?.field == "corporate_number")
        #expect(error?.code == .invalidData)
    }

    @Test func checkDigitMismatchSaysWhichDigitIsExpected() throws {
        let error = #expect(throws: KakehashiError.self) {
            try orgSchema.field("corporate_number").parse("1000012050002")
        }
        #expect(error?.message.contains("should start with 7") == true)
    }

    @Test(arguments: ["2026-02-30", "2025-02-29", "2026-13-01", "2026-4-1x", "26-04-01", "令和8年4月1日", "1899-12-31"])
    func invalidDatesAreRefused(_ input: String) throws {
        let error = #expect(throws: KakehashiError.self) { try Entity.event.schema.field("date").parse(input) }
        #expect(error?.field == "date")
        #expect(error?.message.contains("YYYY-MM-DD") == true)
    }

    @Test func datesAreCanonicalizedIncludingFullWidthInput() throws {
        let date = try Entity.event.schema.field("date")
        #expect(try date.parse("2024-02-29") == .string("2024-02-29"))
        #expect(try date.parse("2026/4/1") == .string("2026-04-01"))
        #expect(try date.parse("２０２６－０４－０１") == .string("2026-04-01"))
    }

    @Test func fiscalYearStartsInApril() throws {
        #expect(CalendarDate("2026-03-31")?.fiscalYear == 2025)
        #expect(CalendarDate("2026-04-01")?.fiscalYear == 2026)
    }

    @Test func yenAmounts() throws {
        let amount = try caseSchema.field("amount_yen")
        #expect(try amount.parse("1,500,000") == .integer(1_500_000))
        #expect(try amount.parse("１，０００") == .integer(1000))
        #expect(try amount.parse("￥2,000円") == .integer(2000))
        #expect(throws: KakehashiError.self) { try amount.parse("-5") }
        #expect(throws: KakehashiError.self) { try amount.parse("1.5") }
    }

    @Test func referencesMustBeWellFormedIDs() throws {
        let owner = try caseSchema.field("owner")
        #expect(
            try owner.parse("0192F1C4-0000-7000-8000-000000000001") == .string("0192f1c4-0000-7000-8000-000000000001"))
        let error = #expect(throws: KakehashiError.self) { try owner.parse("yamada") }
        #expect(error?.field == "owner")
        #expect(try caseSchema.field("program").parse("business-production") == .string("business-production"))
        #expect(throws: KakehashiError.self) { try caseSchema.field("program").parse("Business Production") }
    }

    @Test func unknownFieldListsTheEntitysFields() throws {
        let error = #expect(throws: KakehashiError.self) { try caseSchema.field("colour") }
        #expect(error?.message.contains("title") == true)
        #expect(error?.validValues.contains("amount_yen") == true)
    }

    @Test func requiredFieldsAndReferralRule() throws {
        let event = Entity.event.schema
        let base: [String: FieldValue] = [
            "case": .string("0192f1c4-0000-7000-8000-000000000001"), "kind": .string("referral"),
            "date": .string("2026-04-01"), "body": .string("知財戦略の相談を引き継ぐ"),
        ]
        let error = #expect(throws: KakehashiError.self) { try event.validateComplete(base) }
        #expect(error?.field == "referred_to")
        var complete = base
        complete["referred_to"] = .string("0192f1c4-0000-7000-8000-000000000002")
        try event.validateComplete(complete)
        let missing = #expect(throws: KakehashiError.self) { try event.validateComplete([:]) }
        #expect(missing?.field == "case")
    }

    @Test func uuidV7IsTimeOrderedAndWellFormed() throws {
        var generator = SystemRandomNumberGenerator()
        let first = RecordID.uuidV7(unixMillis: 1_763_700_000_000, using: &generator)
        let second = RecordID.uuidV7(unixMillis: 1_763_700_000_001, using: &generator)
        #expect(RecordID.canonicalUUID(first) == first)
        #expect(first < second)
        #expect(Array(first)[14] == "7")
    }
}
