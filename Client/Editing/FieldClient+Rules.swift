import GRDB
import KakehashiShared

/// Rules the laptop checks before it writes, each the same as the server's (Docs/security.md,
/// Docs/data-model.md), so a mistake is refused while the person is still at the keyboard.
extension FieldClient {
    /// Values that cannot be true: an activity dated after tomorrow in Japan (`ActivityDate`).
    func checkPlausible(_ entity: Entity, _ values: [String: FieldValue], session: WriteSession) throws {
        guard entity == .event, let date = values["date"]?.stringValue,
            let problem = ActivityDate.problem(with: date, nowMillis: session.wallMillis)
        else { return }
        throw KakehashiError.invalid("date", problem)
    }

    /// A new case belongs to its creator's program: `--program` may only name one's own.
    func checkOwnProgram(_ values: [String: FieldValue], session: inout WriteSession) throws {
        guard let program = values["program"]?.stringValue else { return }
        let me = try viewer(&session)
        guard me.active, let own = me.program, own != program else { return }
        throw KakehashiError(
            .notAuthorized, field: "program",
            "新しい案件は自分の事業（\(own)）の案件です。\(program) は指定できません。"
                + "他の事業に引き継ぐには案件を作ってから kakehashi case refer で紹介してください")
    }

    /// A referral is credit between programs: only its author or the case's owner changes its
    /// kind or date or deletes it (the server's rule, `PushPlanner`).
    func requireReferralAuthorOrOwner(
        _ event: RecordState, inCase caseID: String, session: inout WriteSession
    ) throws {
        guard event.value("kind").stringValue == "referral" else { return }
        let me = session.advisor
        if EventCredit.author(of: event) == me { return }
        if try session.state(RecordRef(entity: .case, record: caseID))?.value("owner").stringValue == me { return }
        throw KakehashiError(
            .notAuthorized, field: "id",
            "only the referral's author or the owner of case \(caseID) may change its kind or date or delete it")
    }

    /// Moving an event to another case (`event set ID case=OTHER`) needs content rights on both
    /// cases, and only the event's author or the owner of the case it leaves may do it (the
    /// server's rule: a move takes the event away from everyone who reads only that case).
    func requireMayMove(_ event: RecordState, to target: String, session: inout WriteSession) throws {
        try requireRight(.content, onCase: target, field: "case", session: &session)
        guard let source = event.value("case").stringValue, source != target else { return }
        let me = session.advisor
        if EventCredit.author(of: event) == me { return }
        if try session.state(RecordRef(entity: .case, record: source))?.value("owner").stringValue == me { return }
        throw KakehashiError(
            .notAuthorized, field: "case",
            "only the event's author or the owner of case \(source) may move the event to another case")
    }

    /// `merged_into` joins two records of one company: another organization, and for a record
    /// with a 法人番号 one with the same number (the server's rule).
    func checkMerge(_ id: String, into target: String, number: String?, db: Database) throws {
        if target == id { throw KakehashiError.invalid("merged_into", "組織を自分自身に統合することはできません") }
        let other = try String.fetchOne(
            db, sql: "SELECT corporate_number FROM organizations WHERE id = ?", arguments: [target])
        if let number, number != other {
            throw KakehashiError.invalid(
                "merged_into",
                other.map { "法人番号が異なる組織（\(number)、\($0)）は別の会社なので統合できません" }
                    ?? "法人番号 \(number) の組織は、同じ法人番号を持つ組織にだけ統合できます（kakehashi org merge が番号も移します）")
        }
    }
}
