import KakehashiShared

/// A device's pull as `GET /v1/pull` answers it (`ChangeLogStore.pull(_:)` with a
/// `SessionPullRequest`): the device's token and its advisor's directory record, the page, and
/// the log's epoch, all read in the page's one transaction.
///
/// The first step reads the device whose token hashes to the request's (revoked or not), its
/// advisor's record and the epoch; `Authenticator` decides from them exactly as it does for the
/// other endpoints (an unknown token, a revoked device, a deactivated advisor are refused before
/// the log is read), and the page's own operation (`PullOperation.answering`) then goes on in
/// the same transaction with the viewer just read. Nothing is kept between requests: every pull
/// sees the device's revocation and its advisor's program and level as they are committed when
/// its transaction begins.
struct SessionPullOperation: LogOperation, Sendable {
    let request: SessionPullRequest
    /// The page's operation, once the session is known.
    private var pull: (any LogOperation<PullPage> & Sendable)?
    private var session: Authenticator.Session?
    private var epoch = ""

    init(_ request: SessionPullRequest) {
        self.request = request
    }

    /// As the page's operation: known from the cursor alone, before the session is read.
    var triesReadOnlyFirst: Bool {
        PullOperation.triesReadOnlyFirst(cursor: request.cursor, states: request.states)
    }

    var willWrite: Bool { pull?.willWrite ?? false }

    mutating func start() throws -> LogStep<SessionPullPage> {
        var reads = LogReads()
        reads.session = request.tokenHash
        reads.epoch = true
        return .read(reads)
    }

    mutating func resume(with facts: LogFacts) throws -> LogStep<SessionPullPage> {
        guard var pull, let session else {
            let device = try Authenticator.device(tokenHash: request.tokenHash, found: facts.sessionDevice)
            let session = try Authenticator.session(device, advisor: facts.sessionAdvisor)
            guard let epoch = facts.epoch else {
                throw KakehashiError(.internalFailure, "the store has no epoch (store_meta)")
            }
            self.session = session
            self.epoch = epoch
            var pull = PullOperation.answering(
                PullRequest(
                    device: device.id, viewer: session.viewer, cursor: request.cursor,
                    acknowledged: request.acknowledged, allowFullReconcile: request.allowsFullReconcile(device.id),
                    states: request.states, json: request.json, limit: request.limit))
            let step = try pull.start()
            self.pull = pull
            return answer(step, session)
        }
        let step = try pull.resume(with: facts)
        self.pull = pull
        return answer(step, session)
    }

    /// The page operation's step, its result wrapped with the session and the epoch.
    private func answer(_ step: LogStep<PullPage>, _ session: Authenticator.Session) -> LogStep<SessionPullPage> {
        switch step {
        case .read(let reads): .read(reads)
        case .finish(let writes, let page): .finish(writes, SessionPullPage(session: session, page: page, epoch: epoch))
        }
    }
}
