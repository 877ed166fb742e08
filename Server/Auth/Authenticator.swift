import Foundation
import KakehashiShared

/// Turns an `Authorization: Bearer` header into the device and the advisor it acts for.
public struct Authenticator: Sendable {
    let store: any ChangeLogStore

    public init(store: any ChangeLogStore) { self.store = store }

    /// A device allowed to sync, and the advisor's current directory entry.
    public struct Session: Sendable {
        public let device: DeviceRecord
        public let viewer: AccessPolicy.Viewer
    }

    /// - Throws: `APIError.unauthorized` for a missing or unknown token, `APIError.revoked` for a
    ///   revoked device or a deactivated advisor.
    public func authenticate(authorization: String?) async throws -> Session {
        // The scheme name is case-insensitive (RFC 9110).
        guard let authorization, authorization.prefix(7).lowercased() == "bearer " else {
            throw APIError.unauthorized("send the device token as 'Authorization: Bearer TOKEN'")
        }
        let token = String(authorization.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty, token.utf8.count <= 200 else { throw APIError.unauthorized("unknown device token") }
        let hash = Secrets.hash(token)
        guard let found = try await store.device(tokenHash: hash), Secrets.constantTimeEquals(found.tokenHash, hash)
        else { throw APIError.unauthorized("unknown device token") }
        if found.device.revokedAt != nil { throw APIError.revoked("device \(found.device.id) was revoked") }
        let viewer = AccessPolicy.Viewer(
            advisor: found.device.advisor, state: try await store.record(.advisor, found.device.advisor))
        guard viewer.active else { throw APIError.revoked("advisor \(found.device.advisor) is deactivated") }
        return Session(device: found.device, viewer: viewer)
    }
}
