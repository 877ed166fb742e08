/// Who gets credit for an event, taken only from what the log can vouch for: every change carries
/// the advisor its device acts for (checked at push), so a value counts only when the advisor who
/// wrote it is the one it names.
public enum EventCredit {
    /// The advisor who recorded the event: its `author` field, when that advisor wrote it.
    public static func author(of event: RecordState) -> String? {
        guard let write = event.winner(RegisterKey(field: "author", element: nil)),
            let author = write.value.stringValue, write.author == author
        else { return nil }
        return author
    }

    /// The advisor a referral hands the case to, when the event's verified author named them.
    public static func referredTo(of event: RecordState) -> String? {
        guard let write = event.winner(RegisterKey(field: "referred_to", element: nil)),
            let advisor = write.value.stringValue, let author = author(of: event), write.author == author
        else { return nil }
        return advisor
    }
}
