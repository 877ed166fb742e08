import Foundation

/// The executables' writes to stdout and stderr. Foundation's `FileHandle.write(_:)` traps when a
/// write fails (a full disk, `> /dev/full`, a closed descriptor), which crashed a command with a
/// backtrace; these use the throwing write instead.
public enum StandardStreams {
    /// A note, warning or error line for the user on stderr. A stderr that cannot be written
    /// loses the message; the command's result and exit code stand.
    public static func error(_ text: String) {
        try? FileHandle.standardError.write(contentsOf: Data(text.utf8))
    }

    /// A command's result on stdout.
    /// - Throws: `KakehashiError` (`.unavailable`, field `stdout`) naming why it could not be written,
    ///   so the command exits 69 with one sentence instead of reporting success.
    public static func output(_ data: Data) throws(KakehashiError) {
        do {
            try FileHandle.standardOutput.write(contentsOf: data)
        } catch {
            throw KakehashiError(
                .unavailable, field: "stdout", "cannot write the output (\(reason(error))); nothing else was changed")
        }
    }

    /// The system's words for a failed write ("No space left on device"), else Foundation's.
    static func reason(_ error: any Error) -> String {
        let error = error as NSError
        if let posix = error.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code)))
        }
        return error.localizedDescription
    }
}
