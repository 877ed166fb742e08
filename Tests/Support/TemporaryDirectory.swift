import Foundation

/// A directory of its own for one test (a laptop's home, a server's store, exported files),
/// removed with everything in it when the test lets go of it.
package final class TemporaryDirectory: Sendable {
    package let path: String

    /// - Parameter create: whether to create the directory (empty) now, or leave that to the
    ///   code under test, e.g. a laptop's store that creates its home with its own permissions.
    package init(_ name: String = "test", create: Bool = true) {
        path = NSTemporaryDirectory() + "kakehashi-\(name)-" + UUID().uuidString
        if create { try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
