import Crypto
import VatKernel

/// The last committed crank's `crankHash` and `activityHash`, so two kernels can be compared.
///
/// As SwingSet's swing-store computes them: the crank hash is the SHA-256 of the crank's
/// changes (here `CrankDelta.canonicalEncoding()`), the activity hash chains every crank hash
/// so far: SHA-256 of `activityhash\n<previous activity hash>\n<crank hash>\n`, the previous one
/// being empty before the first crank. Both are lowercase hex. Two kernels that made the same
/// changes in the same order agree on every crank's hashes; from the first crank that differs,
/// their activity hashes differ for ever.
public struct CrankHashes: Hashable, Sendable {
    /// The crank the hashes are for.
    public var crank: Int
    /// SHA-256 of that crank's canonical delta, hex.
    public var crankHash: String
    /// SHA-256 over the previous activity hash and `crankHash`, hex.
    public var activityHash: String

    /// Makes a record of hashes.
    public init(crank: Int, crankHash: String, activityHash: String) {
        self.crank = crank
        self.crankHash = crankHash
        self.activityHash = activityHash
    }

    /// The hashes of crank `delta.crank`, chained onto `previous` (nil: the first crank of the chain).
    public static func of(_ delta: CrankDelta, after previous: CrankHashes?) throws -> CrankHashes {
        try computed(delta, after: previous).hashes
    }

    /// The same hashes, with the 64 bytes of their two digests (crank hash ‖ activity hash):
    /// the event log's `hashes` blob (`StoredEvent`), kept rather than decoded from the hex.
    static func computed(_ delta: CrankDelta, after previous: CrankHashes?) throws -> (hashes: CrankHashes, bytes: [UInt8]) {
        let crankDigest = SHA256.hash(data: try delta.canonicalEncoding())
        let crankHash = hex(crankDigest)
        var chain = Array("activityhash\n".utf8)
        chain.append(contentsOf: (previous?.activityHash ?? "").utf8)
        chain.append(UInt8(ascii: "\n"))
        chain.append(contentsOf: crankHash.utf8)
        chain.append(UInt8(ascii: "\n"))
        let activityDigest = SHA256.hash(data: chain)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        bytes.append(contentsOf: crankDigest)
        bytes.append(contentsOf: activityDigest)
        return (CrankHashes(crank: delta.crank, crankHash: crankHash, activityHash: hex(activityDigest)), bytes)
    }

    private static func hex(_ digest: SHA256.Digest) -> String { Hex.encode(digest) }
}
