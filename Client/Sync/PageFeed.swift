import Foundation
import KakehashiShared

/// The pull pages of a sync that come in page streams (feature `page-streams`): a task asks the
/// server for stream after stream, each from the last page received, while the sync applies the
/// pages one by one as they arrive (`next()`), so the link stays busy across round trips and
/// losses and the laptop's applying is what paces the bootstrap.
///
/// Each stream after the first is asked with `ack` set to the cursor the laptop has stored at
/// that moment (`stored(_:)`), exactly as a page asked ahead: the server keeps every level a
/// retry from the stored cursor needs, so a laptop that crashes with pages received but not
/// stored is sent them again, purges included. At most `capacity` pages wait to be applied; the
/// transfer then waits (and with it the server), so memory does not grow with the stream.
final class PageFeed: Sendable {
    /// A page received, with what `PullPacing` and the clock offset need of its request.
    struct Page: Sendable {
        let reply: Transferred<PullResponse>
        /// The laptop's wall clock when its stream's request left.
        let sent: Int64
        /// The `limit` its stream was asked with.
        let limit: Int
    }

    private let buffer: PageBuffer
    private let progress: Locked<Progress>
    private let task: Task<Void, Never>

    private struct Progress {
        var stored: String
        var limit: Int
    }

    /// Starts asking: the first stream from `cursor` (with `acknowledged` stored, or `cursor`
    /// itself when nil), `states` as the first request of a bootstrap asks them, later streams
    /// with `streamStates`.
    init(
        transport: any SyncTransport, token: String, after cursor: String, acknowledged: String?,
        states: Bool, streamStates: Bool, limit: Int, pages: Int, capacity: Int = 4,
        clock: @escaping @Sendable () -> Int64
    ) {
        let buffer = PageBuffer(capacity: capacity)
        let progress = Locked(Progress(stored: acknowledged ?? cursor, limit: limit))
        self.buffer = buffer
        self.progress = progress
        task = Task {
            var (cursor, acknowledged, states) = (cursor, acknowledged, states)
            while !Task.isCancelled {
                let (sent, size) = (clock(), progress.withLock { $0.limit })
                let last = Locked<PullResponse?>(nil)
                do {
                    try await transport.pullPages(
                        after: cursor, acknowledged: acknowledged, states: states, limit: size, pages: pages,
                        token: token
                    ) { reply in
                        last.withLock { $0 = reply.value }
                        return buffer.push(Page(reply: reply, sent: sent, limit: size))
                    }
                } catch {
                    buffer.fail(error)
                    return
                }
                guard let page = last.withLock({ $0 }) else {
                    buffer.fail(TransportFailure.undecodable("a page stream without a page"))
                    return
                }
                guard page.hasMore else {
                    buffer.finish()
                    return
                }
                cursor = page.nextCursor
                acknowledged = progress.withLock { $0.stored }
                states = streamStates
            }
            buffer.fail(CancellationError())
        }
    }

    /// The next page received, or nil after the last (`hasMore` false).
    /// - Throws: what ended the streams: a `TransportFailure`, or `CancellationError`.
    func next() async throws -> Page? {
        try await buffer.next()
    }

    /// The cursor the laptop has stored: the `ack` of the next stream.
    func stored(_ cursor: String) {
        progress.withLock { $0.stored = cursor }
    }

    /// The `limit` of the next stream's pages (`PullPacing`).
    func pace(_ limit: Int) {
        progress.withLock { $0.limit = limit }
    }

    /// Stops asking and abandons the stream under way.
    func cancel() {
        task.cancel()
        buffer.close()
    }

    deinit {
        cancel()
    }
}

/// The pages received and not yet applied: the transfer's thread pushes (and waits while
/// `capacity` pages wait), the sync takes them in order.
private final class PageBuffer: @unchecked Sendable {
    private let condition = NSCondition()
    private var pages: [PageFeed.Page] = []
    private var ended: Result<Void, any Error>?
    private var closed = false
    private var waiter: CheckedContinuation<PageFeed.Page?, any Error>?
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Adds a page, waiting while the buffer is full; false when the feed was closed (the
    /// transfer then ends).
    func push(_ page: PageFeed.Page) -> Bool {
        condition.lock()
        while !closed, waiter == nil, pages.count >= capacity { condition.wait() }
        guard !closed else {
            condition.unlock()
            return false
        }
        if let waiter {
            self.waiter = nil
            condition.unlock()
            waiter.resume(returning: page)
            return true
        }
        pages.append(page)
        condition.unlock()
        return true
    }

    func finish() { end(.success(())) }

    func fail(_ error: any Error) { end(.failure(error)) }

    private func end(_ result: Result<Void, any Error>) {
        condition.lock()
        if ended == nil { ended = result }
        let waiter = pages.isEmpty ? self.waiter : nil
        if waiter != nil { self.waiter = nil }
        condition.unlock()
        waiter?.resume(with: result.map { nil })
    }

    func close() {
        condition.lock()
        closed = true
        if ended == nil { ended = .failure(CancellationError()) }
        let waiter = self.waiter
        self.waiter = nil
        condition.broadcast()
        condition.unlock()
        waiter?.resume(throwing: CancellationError())
    }

    func next() async throws -> PageFeed.Page? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                condition.lock()
                if !pages.isEmpty {
                    let page = pages.removeFirst()
                    condition.signal()
                    condition.unlock()
                    continuation.resume(returning: page)
                } else if let ended {
                    condition.unlock()
                    continuation.resume(with: ended.map { nil })
                } else {
                    waiter = continuation
                    // A transfer waiting for room hands its page straight over.
                    condition.signal()
                    condition.unlock()
                }
            }
        } onCancel: {
            close()
        }
    }
}

/// A value behind a lock, shared by the feed's task and the sync.
private final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.withLock { body(&value) }
    }
}
