/// Exponential backoff with full jitter for requests that failed in a retryable way.
public struct RetryPolicy: Sendable {
    public var attempts: Int
    public var baseDelay: Double
    public var maxDelay: Double

    public init(attempts: Int = 5, baseDelay: Double = 0.5, maxDelay: Double = 8) {
        self.attempts = attempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The pause before retry number `retry` (1-based): uniformly random up to base·2^(retry−1),
    /// capped, so many laptops recovering at once do not retry in lockstep.
    public func delay(beforeRetry retry: Int, using generator: inout some RandomNumberGenerator) -> Double {
        let ceiling = min(maxDelay, baseDelay * Double(1 << min(retry - 1, 20)))
        return Double.random(in: 0...ceiling, using: &generator)
    }
}
