import Foundation
import VatKernel

/// Vat tokens in a small JSON file beside the database (`<db>.tokens`), mode 0600.
///
/// For stores that do not keep tokens themselves. Each `setToken` rewrites the file
/// atomically (write, fsync, rename) before the vat's creation is flushed, so a vat that is
/// durable always has its token on disk; a crash in between leaves a token for a vat that
/// does not exist, which is ignored and later overwritten.
public final class FileTokenStore: TokenStore {
    public let path: String
    private var tokens: [String: String] = [:]

    /// Opens (or prepares to create) the file at `path`.
    public init(path: String) throws {
        self.path = path
        if FileManager.default.fileExists(atPath: path) {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            guard case .object(let o) = try JSONParser.parse(Array(data)) else {
                throw FileTokenStoreError.corrupt(path)
            }
            for (k, v) in o {
                guard VatID(k) != nil, case .string(let t) = v else { throw FileTokenStoreError.corrupt(path) }
                tokens[k] = t
            }
        }
    }

    public func loadTokens() throws -> [VatID: String] {
        var out: [VatID: String] = [:]
        for (k, v) in tokens { if let vat = VatID(k) { out[vat] = v } }
        return out
    }

    public func setToken(_ token: String, for vat: VatID) throws {
        tokens[vat.description] = token
        let body = JSON.object(tokens.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }).bytes
        let temp = path + ".tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileTokenStoreError.io(temp, errno) }
        var written = 0
        while written < body.count {
            let n = body[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno
                close(fd)
                throw FileTokenStoreError.io(temp, e)
            }
            written += n
        }
        let synced = fsync(fd)
        let e = errno
        close(fd)
        guard synced == 0 else { throw FileTokenStoreError.io(temp, e) }
        guard rename(temp, path) == 0 else { throw FileTokenStoreError.io(path, errno) }
    }
}

/// Why the token file could not be read or written.
public enum FileTokenStoreError: Error, CustomStringConvertible {
    case corrupt(String)
    case io(String, Int32)

    public var description: String {
        switch self {
        case .corrupt(let p): return "\(p) is not a token file"
        case .io(let p, let e): return "\(p): \(String(cString: strerror(e)))"
        }
    }
}
