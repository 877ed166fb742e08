import Foundation
import KakehashiShared

/// Turns an `Authorization: Bearer` header into the device and the advisor it acts for.
///
/// The decision is taken here once, from what the store reads: `authenticate` reads the device
/// and its advisor on their own; a pull reads them inside its own transaction
/// (`ChangeLogStore.pull(_:)` with a `SessionPullRequest`) and decides with `session(tokenHash:found:advisor:)`.
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
        let hash = try Self.tokenHash(authorization: authorization)
        let device = try Self.device(tokenHash: hash, found: try await store.device(tokenHash: hash))
        return try Self.session(device, advisor: try await store.record(.advisor, device.advisor))
    }

    /// The hash of the bearer token in an `Authorization` header, as the store keeps it.
    /// - Throws: `APIError.unauthorized` for a missing header, another scheme, or a token that
    ///   cannot be one this server issued.
    public static func tokenHash(authorization: String?) throws -> String {
        // The scheme name is case-insensitive (RFC 9110).
        guard let authorization, authorization.prefix(7).lowercased() == "bearer " else {
            throw APIError.unauthorized("send the device token as 'Authorization: Bearer TOKEN'")
        }
        let token = String(authorization.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty, token.utf8.count <= 200 else { throw APIError.unauthorized("unknown device token") }
        return Secrets.hash(token)
    }

    /// The device a token hash names, from the store's lookup (`ChangeLogStore.device(tokenHash:)`).
    /// - Throws: `APIError.unauthorized` when no device has that token, `APIError.revoked` when
    ///   the device was revoked.
    static func device(
        tokenHash hash: String, found: (device: DeviceRecord, tokenHash: String)?
    ) throws -> DeviceRecord {
        guard let found, Secrets.constantTimeEquals(found.tokenHash, hash)
        else { throw APIError.unauthorized("unknown device token") }
        if found.device.revokedAt != nil { throw APIError.revoked("device \(found.device.id) was revoked") }
        return found.device
    }

    /// The session of a device that may sync, with its advisor's directory record as it is now.
    /// - Throws: `APIError.revoked` when the advisor is deactivated (or has no record).
    static func session(_ device: DeviceRecord, advisor state: RecordState?) throws -> Session {
        let viewer = AccessPolicy.Viewer(advisor: device.advisor, state: state)
        guard viewer.active else { throw APIError.revoked("advisor \(device.advisor) is deactivated") }
        return Session(device: device, viewer: viewer)
    }
}
