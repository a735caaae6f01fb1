import ArgumentParser
import Foundation
import VatKernelClient

/// The options every client subcommand takes: which server, which token, which output.
struct ClientOptions: ParsableArguments {
    @Option(help: "The server's base URL. [env: VATKERNEL_URL] (default: http://127.0.0.1:8080)")
    var url: String?

    @Option(help: "Bearer token: the admin token, or a vat's own token for its syscalls. [env: VATKERNEL_TOKEN]")
    var token: String?

    @Flag(help: "Print the server's answers as JSON (one object per line) instead of readable text.")
    var json = false

    func client() throws -> Client {
        let environment = ProcessInfo.processInfo.environment
        let text = url ?? environment["VATKERNEL_URL"] ?? "http://127.0.0.1:8080"
        guard let base = URL(string: text), let scheme = base.scheme, ["http", "https"].contains(scheme), base.host != nil else {
            throw ValidationError("--url: not an http(s) URL: \(text)")
        }
        return makeClient(url: base, token: token ?? environment["VATKERNEL_TOKEN"])
    }

    /// Prints `value` as one line of JSON with sorted keys.
    func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        FileHandle.standardOutput.write(try encoder.encode(value) + Data("\n".utf8))
    }

    /// Prints the human lines, or `value` as JSON with `--json`.
    func output<T: Encodable>(_ value: T, _ lines: () -> [String]) throws {
        if json { try printJSON(value) } else { say(lines().joined(separator: "\n")) }
    }
}

/// Writes `text` to standard output at once (unbuffered, so a pipe or terminal sees each line as it comes).
func write(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}

/// Writes one line to standard output at once.
func say(_ line: String) {
    write(line + "\n")
}

/// Runs a client subcommand's body: a server error is printed with the server's own code and
/// message (`vatkernel: 404 unknown-kref: ...`) and the command exits 1.
func clientCommand(isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Void) async throws {
    do {
        try await withServerErrors(body)
    } catch let error as ServerError {
        FileHandle.standardError.write(Data("vatkernel: \(error)\n".utf8))
        throw ExitCode.failure
    } catch let error as DecodingError {
        FileHandle.standardError.write(Data("vatkernel: \(describe(error))\n".utf8))
        throw ExitCode.failure
    }
}

func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return path.isEmpty ? "" : " at \(path)"
    }
    switch error {
    case .dataCorrupted(let c): return "not valid JSON\(path(c)): \(c.debugDescription)"
    case .keyNotFound(let key, let c): return "missing \(key.stringValue)\(path(c))"
    case .typeMismatch(_, let c), .valueNotFound(_, let c): return "wrong type\(path(c)): \(c.debugDescription)"
    @unknown default: return "\(error)"
    }
}

/// One JSON value from the command line (`'"text"'`, `3`, `{"$slot":0}`, ...).
func jsonValue<T: Decodable>(_ text: String, as type: T.Type, what: String) throws -> T {
    do {
        return try JSONDecoder().decode(T.self, from: Data(text.utf8))
    } catch let error as DecodingError {
        throw ValidationError("\(what): \(describe(error)): \(text)")
    }
}
