/// An incremental, strict HTTP/1.1 request parser (RFC 9112), fed byte chunks as they arrive.
///
/// Feed it with ``parse(_:)`` until it reports an event; it never looks beyond the request it is
/// parsing, so pipelined requests are parsed one after another from the same bytes. Memory is
/// bounded by the limits: at most `maxHeaderBytes` of head (request line and header fields, also
/// the budget for chunk extensions and trailers) and `maxBodyBytes` of decoded body.
///
/// A head that arrives in one chunk is parsed in place without copying; only a head split across
/// chunks is gathered into a buffer. After a `.failure` the parser is spent: the connection
/// answers the error and closes.
struct HTTPRequestParser {
    /// The parser's size limits.
    struct Limits: Sendable, Equatable {
        /// Request line plus header fields, including their CRLFs; beyond it, 431.
        var maxHeaderBytes: Int
        /// Decoded body; beyond it, 413.
        var maxBodyBytes: Int
    }

    /// What the parser found.
    enum Event {
        /// The head asked for `Expect: 100-continue` and a body follows: the server may now send
        /// `100 Continue`.
        case expectContinue
        /// A complete request; `keepAlive` says whether the client wants the connection kept open
        /// after the response.
        case request(HTTPRequest, keepAlive: Bool)
        /// The request is malformed or over a limit: answer this error and close.
        case failure(HTTPProtocolError)
    }

    private enum State: Equatable {
        case head
        case body(remaining: Int)
        case chunkSizeLine
        case chunkData(remaining: Int)
        case chunkDataCR
        case chunkDataLF
        case trailerLine
        case failed
    }

    /// Where scanning for the end of a head resumes when it arrives in pieces.
    private struct HeadScan {
        /// Bytes already scanned.
        var scanned = 0
        /// Start of the line being scanned.
        var lineStart = 0
        /// Start of the request line, after any empty lines that preceded it.
        var headStart = 0
    }

    private enum ScanOutcome {
        case complete(end: Int)
        case incomplete
        case bareLF
        case tooLarge
    }

    let limits: Limits
    private var state = State.head
    private var headBuffer: [UInt8] = []
    private var scan = HeadScan()
    private var pending: HTTPRequest?
    private var pendingKeepAlive = false
    private var body: [UInt8] = []
    private var line: [UInt8] = []
    /// Bytes of chunk extensions and trailers seen in this request: they share the head's budget.
    private var framingBytes = 0

    /// A parser with the given limits.
    init(limits: Limits) {
        self.limits = limits
    }

    /// Whether some of a request has arrived but not all of it: the read deadline is running.
    var isMidRequest: Bool {
        switch state {
        case .head: !headBuffer.isEmpty
        case .failed: false
        default: true
        }
    }

    /// Forgets any partial request, e.g. after the connection answered it with a timeout.
    mutating func reset() {
        state = .head
        headBuffer = []
        scan = HeadScan()
        pending = nil
        body = []
        line = []
        framingBytes = 0
    }

    /// Consumes bytes from `input` until an event occurs or the input is exhausted, and returns
    /// how many bytes it consumed with the event, if any. Bytes after an event belong to what
    /// follows and should be fed again.
    mutating func parse(_ input: UnsafeRawBufferPointer) -> (consumed: Int, event: Event?) {
        var offset = 0
        while offset < input.count {
            let rest = UnsafeRawBufferPointer(rebasing: input[offset...])
            let (consumed, event) = step(rest)
            offset += consumed
            if let event { return (offset, event) }
        }
        return (offset, nil)
    }

    /// One state's worth of work: consumes at least one byte unless it reports an event.
    private mutating func step(_ input: UnsafeRawBufferPointer) -> (Int, Event?) {
        switch state {
        case .head:
            return parseHead(input)
        case .body(let remaining):
            let take = min(remaining, input.count)
            appendBody(UnsafeRawBufferPointer(rebasing: input[0..<take]), announced: remaining)
            if take == remaining { return (take, complete()) }
            state = .body(remaining: remaining - take)
            return (take, nil)
        case .chunkSizeLine:
            return readLine(input) { parser, line in parser.chunkSizeLine(line) }
        case .chunkData(let remaining):
            let take = min(remaining, input.count)
            // Chunks may be small: grow toward the body limit, not the chunk, to stay geometric.
            appendBody(UnsafeRawBufferPointer(rebasing: input[0..<take]), announced: limits.maxBodyBytes - body.count)
            state = take == remaining ? .chunkDataCR : .chunkData(remaining: remaining - take)
            return (take, nil)
        case .chunkDataCR:
            guard input[0] == ASCII.cr else { return (1, fail(.badRequest("chunk data not followed by CRLF"))) }
            state = .chunkDataLF
            return (1, nil)
        case .chunkDataLF:
            guard input[0] == ASCII.lf else { return (1, fail(.badRequest("chunk data not followed by CRLF"))) }
            state = .chunkSizeLine
            return (1, nil)
        case .trailerLine:
            return readLine(input) { parser, line in parser.trailerLine(line) }
        case .failed:
            return (input.count, nil)
        }
    }

    /// Appends body bytes. Storage grows geometrically with what has arrived, never past
    /// `announced` more bytes (counting these): a client cannot pin memory by announcing a body
    /// and not sending it.
    private mutating func appendBody(_ bytes: UnsafeRawBufferPointer, announced: Int) {
        let needed = body.count + bytes.count
        if needed > body.capacity {
            body.reserveCapacity(min(body.count + announced, max(needed, body.capacity * 2, 4096)))
        }
        body.append(contentsOf: bytes)
    }

    private mutating func fail(_ error: HTTPProtocolError) -> Event {
        state = .failed
        headBuffer = []
        body = []
        line = []
        pending = nil
        return .failure(error)
    }

    private mutating func complete() -> Event {
        guard var request = pending else { preconditionFailure("a body without a head") }
        request.body = body
        body = []
        pending = nil
        framingBytes = 0
        state = .head
        return .request(request, keepAlive: pendingKeepAlive)
    }

    // MARK: - Head

    private mutating func parseHead(_ input: UnsafeRawBufferPointer) -> (Int, Event?) {
        let limit = limits.maxHeaderBytes
        if headBuffer.isEmpty {
            switch Self.scanHead(input, &scan, limit: limit) {
            case .complete(let end):
                let head = UnsafeRawBufferPointer(rebasing: input[scan.headStart..<end])
                scan = HeadScan()
                return (end, finishHead(head))
            case .incomplete:
                headBuffer.reserveCapacity(min(limit, max(input.count * 2, 1024)))
                headBuffer.append(contentsOf: input)
                return (input.count, nil)
            case .bareLF:
                return (input.count, fail(.badRequest("line not terminated by CRLF")))
            case .tooLarge:
                return (input.count, fail(.headerFieldsTooLarge("request line and header fields exceed \(limit) bytes")))
            }
        }
        let old = headBuffer.count
        let take = min(input.count, limit - old)
        headBuffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[0..<take]))
        let outcome = headBuffer.withUnsafeBytes { Self.scanHead($0, &scan, limit: limit) }
        switch outcome {
        case .complete(let end):
            let headStart = scan.headStart
            scan = HeadScan()
            let event = headBuffer.withUnsafeBytes { buffer in
                finishHead(UnsafeRawBufferPointer(rebasing: buffer[headStart..<end]))
            }
            headBuffer = []
            return (end - old, event)
        case .incomplete:
            return (take, nil)
        case .bareLF:
            return (take, fail(.badRequest("line not terminated by CRLF")))
        case .tooLarge:
            return (take, fail(.headerFieldsTooLarge("request line and header fields exceed \(limit) bytes")))
        }
    }

    /// Finds the empty line that ends a head, looking at no more than `limit` bytes. Empty lines
    /// before the request line are skipped (RFC 9112 §2.2); a LF without its CR is an error.
    private static func scanHead(_ bytes: UnsafeRawBufferPointer, _ scan: inout HeadScan, limit: Int) -> ScanOutcome {
        let end = min(bytes.count, limit)
        var index = scan.scanned
        while index < end {
            if bytes[index] == ASCII.lf {
                guard index > 0 && bytes[index - 1] == ASCII.cr else { return .bareLF }
                if index - 1 == scan.lineStart {
                    if scan.lineStart == scan.headStart {
                        scan.headStart = index + 1
                    } else {
                        return .complete(end: index + 1)
                    }
                }
                scan.lineStart = index + 1
            }
            index += 1
        }
        scan.scanned = end
        return bytes.count >= limit ? .tooLarge : .incomplete
    }

    /// What the header fields said about the message, gathered while parsing them.
    private struct HeadFacts {
        var hostCount = 0
        var contentLength: Int?
        var contentLengthTooLarge = false
        var contentLengthInvalid = false
        var transferCodings = 0
        var chunkedCount = 0
        var lastCodingIsChunked = false
        var unsupportedCoding: String?
        var connectionClose = false
        var connectionKeepAlive = false
        var expectContinue = false
        var unsupportedExpectation: String?
    }

    /// Parses a complete head (request line through the final CRLF) and sets up the body.
    private mutating func finishHead(_ head: UnsafeRawBufferPointer) -> Event? {
        let line: RequestLine
        switch Self.parseRequestLine(head) {
        case .success(let parsed): line = parsed
        case .failure(let error): return fail(error)
        }
        var facts = HeadFacts()
        let headers: [HTTPHeaders.Field]
        switch Self.parseHeaderFields(head, from: line.end, into: &facts) {
        case .success(let parsed): headers = parsed
        case .failure(let error): return fail(error)
        }
        if let error = framingError(facts, version: line.version) { return fail(error) }

        let version = line.version
        pendingKeepAlive =
            version == .http1_1 ? !facts.connectionClose : (facts.connectionKeepAlive && !facts.connectionClose)
        pending = HTTPRequest(
            method: line.method,
            target: line.target,
            path: line.components.path,
            query: line.components.query,
            version: version,
            headers: HTTPHeaders(fields: headers),
            body: [])
        let contentLength = facts.contentLength ?? 0
        if facts.transferCodings > 0 {
            state = .chunkSizeLine
        } else if contentLength > 0 {
            state = .body(remaining: contentLength)
        } else {
            return complete()
        }
        // RFC 9110 §10.1.1: an HTTP/1.0 client cannot expect 100-continue, so it is ignored there.
        return facts.expectContinue && version == .http1_1 ? .expectContinue : nil
    }

    /// A parsed request line, and where the header fields start.
    private struct RequestLine {
        var method: String
        var target: String
        var components: RequestTarget.Components
        var version: HTTPVersion
        var end: Int
    }

    /// Request line: method SP request-target SP HTTP-version CRLF, single spaces only.
    private static func parseRequestLine(_ head: UnsafeRawBufferPointer) -> Result<RequestLine, HTTPProtocolError> {
        var index = 0
        while ASCII.isTokenCharacter(head[index]) { index += 1 }
        let methodEnd = index
        guard methodEnd > 0, head[index] == ASCII.space else {
            return .failure(.badRequest("invalid method in request line"))
        }
        index += 1
        let targetStart = index
        while head[index] != ASCII.space && head[index] != ASCII.cr { index += 1 }
        let targetEnd = index
        guard targetEnd > targetStart, head[index] == ASCII.space else {
            return .failure(.badRequest("malformed request line"))
        }
        index += 1
        let versionStart = index
        while head[index] != ASCII.cr { index += 1 }
        guard head[index + 1] == ASCII.lf else { return .failure(.badRequest("bare CR in request line")) }
        let version: HTTPVersion
        switch parseVersion(UnsafeRawBufferPointer(rebasing: head[versionStart..<index])) {
        case .success(let parsed): version = parsed
        case .failure(let error): return .failure(error)
        }
        let method = String(decoding: UnsafeRawBufferPointer(rebasing: head[0..<methodEnd]), as: UTF8.self)
        let targetBytes = UnsafeRawBufferPointer(rebasing: head[targetStart..<targetEnd])
        if method == "CONNECT" {
            return .failure(.notImplemented("CONNECT is not supported"))
        }
        return RequestTarget.parse(targetBytes, allowsAsterisk: method == "OPTIONS").map { components in
            RequestLine(method: method, target: String(decoding: targetBytes, as: UTF8.self), components: components,
                        version: version, end: index + 2)
        }
    }

    /// Header fields: field-name ":" OWS field-value OWS CRLF, up to the empty line; what
    /// framing needs is noted in `facts`.
    private static func parseHeaderFields(_ head: UnsafeRawBufferPointer, from start: Int,
                                          into facts: inout HeadFacts) -> Result<[HTTPHeaders.Field], HTTPProtocolError> {
        var headers: [HTTPHeaders.Field] = []
        var index = start
        while head[index] != ASCII.cr {
            let lineStart = index
            if head[index] == ASCII.space || head[index] == ASCII.tab {
                return .failure(.badRequest("obsolete line folding or whitespace before a header field"))
            }
            while ASCII.isTokenCharacter(head[index]) { index += 1 }
            let nameEnd = index
            guard nameEnd > lineStart, head[index] == ASCII.colon else {
                return .failure(.badRequest("invalid header field name"))
            }
            index += 1
            while head[index] == ASCII.space || head[index] == ASCII.tab { index += 1 }
            let valueStart = index
            var valueEnd = index
            while head[index] != ASCII.cr {
                let byte = head[index]
                guard ASCII.isFieldValueCharacter(byte) else {
                    return .failure(.badRequest("invalid character in header field value"))
                }
                if byte != ASCII.space && byte != ASCII.tab { valueEnd = index + 1 }
                index += 1
            }
            guard head[index + 1] == ASCII.lf else { return .failure(.badRequest("bare CR in header field")) }
            index += 2
            let name = UnsafeRawBufferPointer(rebasing: head[lineStart..<nameEnd])
            let value = UnsafeRawBufferPointer(rebasing: head[valueStart..<valueEnd])
            if let error = inspect(name: name, value: value, into: &facts) {
                return .failure(error)
            }
            headers.append((name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self)))
        }
        return .success(headers)
    }

    /// Framing (RFC 9112 §6): exactly one way to know where the body ends, or none.
    private func framingError(_ facts: HeadFacts, version: HTTPVersion) -> HTTPProtocolError? {
        if facts.hostCount == 0 && version == .http1_1 {
            return .badRequest("missing Host header")
        }
        if facts.hostCount > 1 {
            return .badRequest("more than one Host header")
        }
        if facts.transferCodings > 0 {
            if version == .http1_0 {
                return .badRequest("Transfer-Encoding is not allowed in an HTTP/1.0 request")
            }
            if facts.contentLength != nil || facts.contentLengthInvalid || facts.contentLengthTooLarge {
                return .badRequest("both Transfer-Encoding and Content-Length")
            }
            if !facts.lastCodingIsChunked {
                return .badRequest("chunked must be the final transfer coding")
            }
            if facts.chunkedCount > 1 {
                return .badRequest("chunked applied more than once")
            }
            if let coding = facts.unsupportedCoding {
                return .notImplemented("transfer coding \"\(coding)\" is not supported")
            }
        }
        if facts.contentLengthInvalid {
            return .badRequest("invalid Content-Length")
        }
        if facts.contentLengthTooLarge || (facts.contentLength ?? 0) > limits.maxBodyBytes {
            return .payloadTooLarge(limit: limits.maxBodyBytes)
        }
        if let expectation = facts.unsupportedExpectation {
            return .expectationFailed(expectation)
        }
        return nil
    }

    /// `HTTP/1.1`, `HTTP/1.0`, a later 1.x minor (read as 1.1), or a well-formed other major (505).
    private static func parseVersion(_ bytes: UnsafeRawBufferPointer) -> Result<HTTPVersion, HTTPProtocolError> {
        guard bytes.count == 8,
            bytes[0] == UInt8(ascii: "H"), bytes[1] == UInt8(ascii: "T"), bytes[2] == UInt8(ascii: "T"),
            bytes[3] == UInt8(ascii: "P"), bytes[4] == ASCII.slash,
            ASCII.isDigit(bytes[5]), bytes[6] == UInt8(ascii: "."), ASCII.isDigit(bytes[7])
        else {
            return .failure(.badRequest("invalid HTTP version"))
        }
        let major = bytes[5] - UInt8(ascii: "0")
        let minor = bytes[7] - UInt8(ascii: "0")
        guard major == 1 else {
            return .failure(.versionNotSupported(String(decoding: bytes, as: UTF8.self)))
        }
        return .success(minor == 0 ? .http1_0 : .http1_1)
    }

    /// Records what a header field means for framing and connection handling; an error for a
    /// field that is malformed in a way that matters.
    private static func inspect(
        name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, into facts: inout HeadFacts
    ) -> HTTPProtocolError? {
        switch name.count {
        case 4 where ASCII.equalsIgnoringCase(name, "host"):
            facts.hostCount += 1
            for byte in value where !ASCII.isHostCharacter(byte) {
                return .badRequest("invalid Host header")
            }
        case 6 where ASCII.equalsIgnoringCase(name, "expect"):
            if ASCII.equalsIgnoringCase(value, "100-continue") {
                facts.expectContinue = true
            } else {
                facts.unsupportedExpectation = String(decoding: value, as: UTF8.self)
            }
        case 10 where ASCII.equalsIgnoringCase(name, "connection"):
            forEachListElement(value) { token in
                if ASCII.equalsIgnoringCase(token, "close") { facts.connectionClose = true }
                if ASCII.equalsIgnoringCase(token, "keep-alive") { facts.connectionKeepAlive = true }
            }
        case 14 where ASCII.equalsIgnoringCase(name, "content-length"):
            inspectContentLength(value, into: &facts)
        case 17 where ASCII.equalsIgnoringCase(name, "transfer-encoding"):
            forEachListElement(value) { element in
                // A transfer-coding may carry parameters after ";"; only its name matters here.
                var end = 0
                while end < element.count && ASCII.isTokenCharacter(element[end]) { end += 1 }
                let coding = UnsafeRawBufferPointer(rebasing: element[0..<end])
                facts.transferCodings += 1
                if ASCII.equalsIgnoringCase(coding, "chunked") {
                    facts.chunkedCount += 1
                    facts.lastCodingIsChunked = true
                } else {
                    facts.lastCodingIsChunked = false
                    if facts.unsupportedCoding == nil {
                        facts.unsupportedCoding = String(decoding: element, as: UTF8.self)
                    }
                }
            }
        default:
            break
        }
        return nil
    }

    /// `Content-Length = 1*DIGIT`, possibly repeated (as a list or as several fields) with the
    /// same value, which RFC 9112 §6.3 lets a recipient accept; different values are invalid.
    private static func inspectContentLength(_ value: UnsafeRawBufferPointer, into facts: inout HeadFacts) {
        var sawElement = false
        forEachListElement(value, skippingEmpty: false) { element in
            sawElement = true
            guard !element.isEmpty, element.allSatisfy(ASCII.isDigit) else {
                facts.contentLengthInvalid = true
                return
            }
            var significant = element[...]
            while significant.count > 1 && significant.first == UInt8(ascii: "0") { significant = significant.dropFirst() }
            guard significant.count <= 18 else {
                facts.contentLengthTooLarge = true
                return
            }
            let length = significant.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            if let previous = facts.contentLength, previous != length {
                facts.contentLengthInvalid = true
            }
            facts.contentLength = length
        }
        if !sawElement { facts.contentLengthInvalid = true }
    }

    /// Calls `body` with each comma-separated element of a field value, trimmed of OWS.
    private static func forEachListElement(
        _ value: UnsafeRawBufferPointer, skippingEmpty: Bool = true, _ body: (UnsafeRawBufferPointer) -> Void
    ) {
        var start = 0
        while start <= value.count {
            var end = start
            while end < value.count && value[end] != ASCII.comma { end += 1 }
            var lower = start
            var upper = end
            while lower < upper && (value[lower] == ASCII.space || value[lower] == ASCII.tab) { lower += 1 }
            while upper > lower && (value[upper - 1] == ASCII.space || value[upper - 1] == ASCII.tab) { upper -= 1 }
            if upper > lower || !skippingEmpty {
                body(UnsafeRawBufferPointer(rebasing: value[lower..<upper]))
            }
            start = end + 1
        }
    }

    // MARK: - Chunked body (RFC 9112 §7.1)

    /// Gathers one CRLF-terminated line into `line`, then hands it (without the CRLF) to `handle`.
    /// A line may not outrun the request's remaining framing budget.
    private mutating func readLine(
        _ input: UnsafeRawBufferPointer, _ handle: (inout HTTPRequestParser, UnsafeRawBufferPointer) -> Event?
    ) -> (Int, Event?) {
        let budget = limits.maxHeaderBytes - framingBytes + 32
        var end = 0
        while end < input.count && input[end] != ASCII.lf { end += 1 }
        let found = end < input.count
        let take = found ? end + 1 : input.count
        guard line.count + take <= budget else {
            return (take, fail(.headerFieldsTooLarge("chunk extensions and trailer fields exceed \(limits.maxHeaderBytes) bytes")))
        }
        line.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[0..<take]))
        guard found else { return (take, nil) }
        guard line.count >= 2 && line[line.count - 2] == ASCII.cr else {
            return (take, fail(.badRequest("line not terminated by CRLF")))
        }
        var current = line
        line = []
        let event = current.withUnsafeBytes { bytes in
            handle(&self, UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - 2)]))
        }
        current.removeAll(keepingCapacity: true)
        line = current
        return (take, event)
    }

    /// `chunk-size [ chunk-ext ]`: the size in hex, then extensions, which are checked and ignored.
    private mutating func chunkSizeLine(_ bytes: UnsafeRawBufferPointer) -> Event? {
        var index = 0
        var size = 0
        var significantDigits = 0
        while index < bytes.count, let digit = ASCII.hexValue(bytes[index]) {
            if significantDigits > 0 || digit != 0 { significantDigits += 1 }
            if significantDigits > 15 { return fail(.payloadTooLarge(limit: limits.maxBodyBytes)) }
            size = size << 4 | Int(digit)
            index += 1
        }
        guard index > 0 else { return fail(.badRequest("invalid chunk size")) }
        if index < bytes.count {
            let extensions = UnsafeRawBufferPointer(rebasing: bytes[index...])
            var start = 0
            while start < extensions.count && (extensions[start] == ASCII.space || extensions[start] == ASCII.tab) {
                start += 1
            }
            guard start < extensions.count, extensions[start] == ASCII.semicolon,
                extensions.allSatisfy(ASCII.isFieldValueCharacter)
            else {
                return fail(.badRequest("invalid chunk extension"))
            }
            framingBytes += extensions.count
        }
        if size == 0 {
            state = .trailerLine
            return nil
        }
        guard size <= limits.maxBodyBytes - body.count else {
            return fail(.payloadTooLarge(limit: limits.maxBodyBytes))
        }
        state = .chunkData(remaining: size)
        return nil
    }

    /// A trailer field, checked and dropped (RFC 9110 §6.5.1 lets a recipient discard them), or
    /// the empty line that ends the message.
    private mutating func trailerLine(_ bytes: UnsafeRawBufferPointer) -> Event? {
        if bytes.isEmpty { return complete() }
        framingBytes += bytes.count + 2
        guard framingBytes <= limits.maxHeaderBytes else {
            return fail(.headerFieldsTooLarge("chunk extensions and trailer fields exceed \(limits.maxHeaderBytes) bytes"))
        }
        var index = 0
        while index < bytes.count && ASCII.isTokenCharacter(bytes[index]) { index += 1 }
        guard index > 0, index < bytes.count, bytes[index] == ASCII.colon,
            bytes[(index + 1)...].allSatisfy(ASCII.isFieldValueCharacter)
        else {
            return fail(.badRequest("invalid trailer field"))
        }
        return nil
    }
}
