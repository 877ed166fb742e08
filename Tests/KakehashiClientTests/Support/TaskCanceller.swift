import Foundation

/// Runs an operation in a task that a callback can cancel, however early the callback comes:
/// `cancel()` waits until `start` has stored the task, so a transport's observer that fires
/// during the first request still reaches it.
final class TaskCanceller<Success: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var task: Task<Success, any Error>?

    func start(_ operation: @escaping @Sendable () async throws -> Success) -> Task<Success, any Error> {
        lock.withLock {
            let task = Task(operation: operation)
            self.task = task
            return task
        }
    }

    func cancel() {
        lock.withLock { task?.cancel() }
    }
}
