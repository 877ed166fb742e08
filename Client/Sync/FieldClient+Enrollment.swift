import KakehashiShared

/// How this laptop becomes a device of a server (`kakehashi init`), and how it reaches it.
extension FieldClient {
    /// Enrolls this laptop with the server (`kakehashi init`): trades the one-time code for a
    /// device token and creates the local store. Nothing is left behind if enrollment fails.
    public static func enroll(
        directory: String, server: String, code: String, cacert: String?, deviceName: String?,
        transport: any SyncTransport, wallClock: @escaping @Sendable () -> Int64 = FieldClient.systemClock
    ) async throws -> FieldClient {
        if LocalStore.exists(in: directory) {
            // A store without a device row is what an enrollment interrupted by a crash leaves:
            // start again rather than leave the laptop stuck.
            let enrolled = (try? LocalStore.open(directory: directory).read { try DeviceIdentity.load($0) }) != nil
            guard !enrolled else {
                throw KakehashiError(
                    .usage, field: "home",
                    "\(directory) already holds an enrolled Kakehashi store; use another --home or remove it first")
            }
            try LocalStore.wipe(directory: directory)
        }
        let sent = wallClock()
        let response: EnrollResponse
        let features: Set<String>
        do {
            let reply = try await transport.enroll(EnrollRequest(code: code, deviceName: deviceName))
            (response, features) = (reply.value, reply.features)
        } catch {
            if case .status(401, let body) = error {
                throw KakehashiError(
                    .notAuthorized, field: "code",
                    "the server did not accept the enrollment code (\(body?.error.message ?? "HTTP 401")); codes work once and expire — ask an administrator for a new one"
                )
            }
            if case .cancelled = error { throw CancellationError() }
            throw error.kakehashiError
        }
        let offset = ClockOffset.estimate(serverTime: response.serverTime, sent: sent, received: wallClock())
        let store = try LocalStore.open(directory: directory, create: true)
        do {
            try store.write { db in
                try DeviceIdentity(
                    device: response.device, advisor: response.advisor, token: response.token, server: server,
                    cacert: cacert, counter: 0, clock: HLC(millis: 0, counter: 0, device: response.device),
                    clockOffset: offset, cursor: WireProtocol.initialCursor, lastSync: nil, features: features.sorted()
                ).save(db)
            }
        } catch {
            try? LocalStore.wipe(directory: directory)
            throw error
        }
        return FieldClient(store: store, wallClock: wallClock)
    }

    /// Trusts the private certificate authority in the PEM file at `path` for this and every
    /// later sync (`kakehashi sync --cacert`).
    public func rememberCertificateAuthority(_ path: String) throws {
        try store.write { db in
            var identity = try DeviceIdentity.load(db)
            identity.cacert = path
            try identity.save(db)
        }
    }
}
