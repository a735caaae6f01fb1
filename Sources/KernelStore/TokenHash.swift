import Crypto

/// What is kept of a bearer token: its SHA-256 (issue 9 part 4). The database and the
/// service's memory hold only this, so reading the file gives no vat's authority.
public enum TokenHash {
    /// SHA-256 of the token's bytes.
    public static func digest(_ token: some Collection<UInt8>) -> [UInt8] { Array(SHA256.hash(data: Array(token))) }

    /// The digest as 64 lowercase hex digits, as the `vats` table stores it.
    public static func hex(_ token: some Collection<UInt8>) -> String { Hex.encode(digest(token)) }

    /// The digest a stored hex text names, or nil if it is not 64 hex digits.
    public static func digest(hex text: String) -> [UInt8]? {
        guard let bytes = Hex.decode(text), bytes.count == SHA256.byteCount else { return nil }
        return bytes
    }
}
