// The answers both comparison servers give, captured from a real `vatkernel serve --db :memory:`
// (one vat created with POST /vats, one 3-syscall batch run), so that every server in the
// benchmark sends the same bytes.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum Fixtures {
    /// `Content-Type` of every vatkernel JSON answer.
    public static let contentType = "application/json; charset=utf-8"

    /// GET /kernel (209 bytes).
    public static let kernelSummary = Array(#"""
        {"crank":2,"runMode":"auto","halted":null,"idle":true,"queues":{"acceptance":0,"run":0,"reap":0},"gcActions":0,"vats":1,"runningVats":1,"objects":1,"promises":0,"store":{"path":":memory:","durability":"full"}}
        """#.utf8)

    /// POST /vats/v1/syscalls with
    /// `{"syscalls":[{"type":"vatstoreSet","key":"k","value":"v"},{"type":"vatstoreGet","key":"k"},{"type":"vatstoreDelete","key":"k"}]}`
    /// (27 bytes).
    public static let syscallBatchAnswer = Array(#"{"type":"ran","results":[null,"v",null]}"#.utf8)

    /// Largest request body read, as vatkernel's default `--max-body`.
    public static let maxBody = 1 << 20

    /// The port given as `--port N` (or `--port=N`); 8080 without one.
    public static func port(from arguments: [String]) -> Int {
        var port = 8080
        var index = 1
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--port", index + 1 < arguments.count, let value = Int(arguments[index + 1]) {
                port = value
                index += 1
            } else if argument.hasPrefix("--port="), let value = Int(argument.dropFirst("--port=".count)) {
                port = value
            } else if argument == "--help" || argument == "-h" {
                print("usage: \(arguments[0]) [--port N]   (serves on 127.0.0.1, default port 8080)")
                exit(0)
            } else {
                print("\(arguments[0]): unknown argument \(argument); usage: [--port N]")
                exit(64)
            }
            index += 1
        }
        return port
    }

    /// Writes `line` to standard output at once (unbuffered, so it reaches a log file even
    /// when the server is killed).
    public static func announce(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        bytes.withUnsafeBytes { _ = write(1, $0.baseAddress, $0.count) }
    }
}
