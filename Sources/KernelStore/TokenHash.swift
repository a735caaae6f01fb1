import Crypto

/// What is kept of a bearer token: its SHA-256 (issue 9 part 4). The database and the
/// service's memory hold only this, so reading the file gives no vat's authority.
public enum TokenHash {
    /// SHA-256 of the token's bytes.
    public static func digest(_ token: some Collection<UInt8>) -> [UInt8] { Array(SHA256.hash(data: Array(token))) }

    /// The digest as 64 lowercase hex digits, as the `vat_tokens` table stores it.
    public static func hex(_ token: some Collection<UInt8>) -> String { hex(digest: digest(token)) }

    static func hex(digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(digest.count * 2)
        for b in digest {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The digest a stored hex text names, or nil if it is not 64 hex digits.
    public static func digest(hex text: String) -> [UInt8]? {
        let bytes = Array(text.utf8)
        guard bytes.count == 64 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for i in stride(from: 0, to: 64, by: 2) {
            guard let hi = nibble(bytes[i]), let lo = nibble(bytes[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
        }
        return out
    }
}
