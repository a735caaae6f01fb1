import HTTPServer
import KernelStore
import Synchronization
import VatKernel

/// The bearer tokens the service accepts: the optional admin token and one token per vat,
/// of which only the SHA-256 is kept (`TokenHash`), here as in the store.
///
/// Read on the loop thread for every request and written by the kernel thread when a vat is
/// created, hence the lock. Comparisons take the same time whatever the bytes, and no token
/// ever appears in a message or a log.
final class Credentials: Sendable {
    private let admin: [UInt8]?
    /// Each vat's token digest.
    private let vatTokens: Mutex<[VatID: [UInt8]]>

    /// `vatTokenHashes`: each vat's token digest (`VatRecord.tokenHash`).
    init(adminToken: String?, vatTokenHashes: [VatID: [UInt8]]) {
        admin = adminToken.map { Array($0.utf8) }
        vatTokens = Mutex(vatTokenHashes)
    }

    /// Makes the token whose digest is `hash` the token of `vat` (once its creation is durable).
    func setVatTokenHash(_ hash: [UInt8], for vat: VatID) {
        vatTokens.withLock { $0[vat] = hash }
    }

    /// Checks the `Authorization` header for a request on `resource`; throws 401 (no token)
    /// or 403 (a token that is neither the admin's nor the vat's).
    ///
    /// A vat-scoped request with a bad token is 403 whether or not the vat exists (its token
    /// is compared with a stand-in of the same length), so tokens cannot probe which vats
    /// exist; only the admin token (or no admin token configured, for host endpoints) reaches
    /// the 404 of a missing vat.
    func authorize(_ resource: Resource, vat: VatID?, header: String?) throws(ServiceError) {
        if resource.isPublic { return }
        if let vat {
            guard let presented = Credentials.bearer(header) else { throw .missingCredentials }
            if let admin, Credentials.constantTimeEqual(presented, admin) { return }
            let expected = vatTokens.withLock { $0[vat] }
            let matches = Credentials.constantTimeEqual(TokenHash.digest(presented), expected ?? Credentials.standIn)
            guard expected != nil, matches else { throw .wrongCredentials }
            return
        }
        guard let admin else { return }
        guard let presented = Credentials.bearer(header) else { throw .missingCredentials }
        guard Credentials.constantTimeEqual(presented, admin) else { throw .wrongCredentials }
    }

    /// What a token's digest is compared with when the vat has none: as long as a real digest,
    /// and (short of breaking SHA-256) no token's digest.
    private static let standIn = [UInt8](repeating: 0, count: 32)

    /// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
    static func bearer(_ header: String?) -> [UInt8]? {
        guard let header else { return nil }
        let bytes = Array(header.utf8)
        guard bytes.count > 7, bytes[0..<6].map({ $0 | 0x20 }) == Array("bearer".utf8), bytes[6] == 0x20 else {
            return nil
        }
        var token = bytes[7...].drop { $0 == 0x20 }
        while token.last == 0x20 { token = token.dropLast() }
        return token.isEmpty ? nil : Array(token)
    }

    /// Equal contents, in time that depends only on the lengths.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(truncatingIfNeeded: a.count ^ b.count)
        if a.count != b.count { diff |= 1 }
        let n = max(a.count, b.count)
        for i in 0..<n {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            diff |= x ^ y
        }
        return diff == 0
    }

    /// A new token: 32 random bytes from the system's generator, as 64 hex digits.
    static func newToken() -> String {
        var rng = SystemRandomNumberGenerator()
        return Hex.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }
}
