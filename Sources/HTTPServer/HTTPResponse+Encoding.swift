/// Wire encoding of responses: status line, headers and body into one buffer, so that a
/// response leaves in a single write.
extension HTTPResponse {
    /// What the server says in the `Connection` header.
    enum ConnectionDirective {
        /// Nothing: HTTP/1.1 persists by default.
        case none
        /// `Connection: close`: the server closes after this response.
        case close
        /// `Connection: keep-alive`: an HTTP/1.0 client asked to keep the connection.
        case keepAlive
    }

    /// The interim response that tells a client waiting on `Expect: 100-continue` to send its body.
    static let continueBytes: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// Whether the handler asked, with `Connection: close`, to close the connection after this response.
    var asksToClose: Bool {
        for (name, value) in headers where HTTPHeaders.namesEqual(name, "connection") {
            for token in value.split(separator: ",") {
                if HTTPHeaders.namesEqual(Self.trimmingWhitespace(token), "close") { return true }
            }
        }
        return false
    }

    /// Appends this response in wire format to `out`. `headRequest` omits the body (keeping its
    /// length in `Content-Length`). `date`, when given, is sent as the `Date` header unless the
    /// handler set one. The status must be 200...999.
    /// A streaming response (``stream`` set) gets no `Content-Length` and no body here: with
    /// `chunked`, `Transfer-Encoding: chunked`, and the loop sends the chunks as they come.
    func encode(into out: inout [UInt8], headRequest: Bool, connection: ConnectionDirective, date: [UInt8]? = nil,
                chunked: Bool = false) {
        out.append(contentsOf: "HTTP/1.1 ".utf8)
        Self.appendDecimal(status, to: &out)
        out.append(ASCII.space)
        Self.appendStatic(Self.reasonPhrase(status), to: &out)
        out.append(contentsOf: "\r\n".utf8)

        let mayHaveContent = status != 204 && status != 304
        var handlerContentLength: String?
        if let date, !headers.contains(where: { HTTPHeaders.namesEqual($0.0, "date") }) {
            out.append(contentsOf: "Date: ".utf8)
            out.append(contentsOf: date)
            out.append(contentsOf: "\r\n".utf8)
        }
        for (name, value) in headers {
            if HTTPHeaders.namesEqual(name, "content-length") {
                handlerContentLength = value
                continue
            }
            if HTTPHeaders.namesEqual(name, "connection") || HTTPHeaders.namesEqual(name, "transfer-encoding") {
                continue
            }
            guard Self.isValidField(name: name, value: value) else { continue }
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: value.utf8)
            out.append(contentsOf: "\r\n".utf8)
        }
        if stream != nil {
            if chunked && !headRequest { out.append(contentsOf: "Transfer-Encoding: chunked\r\n".utf8) }
        } else if mayHaveContent {
            out.append(contentsOf: "Content-Length: ".utf8)
            if headRequest && body.isEmpty, let announced = handlerContentLength,
                !announced.isEmpty, announced.utf8.allSatisfy(ASCII.isDigit)
            {
                out.append(contentsOf: announced.utf8)
            } else {
                Self.appendDecimal(body.count, to: &out)
            }
            out.append(contentsOf: "\r\n".utf8)
        }
        switch connection {
        case .none: break
        case .close: out.append(contentsOf: "Connection: close\r\n".utf8)
        case .keepAlive: out.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        out.append(contentsOf: "\r\n".utf8)
        if mayHaveContent && !headRequest && stream == nil {
            out.append(contentsOf: body)
        }
    }

    /// One chunk of a chunked body (RFC 9112 §7.1): the size in hex, CRLF, the bytes, CRLF;
    /// empty `bytes` is the last chunk (with the empty trailer section).
    static func appendChunk(_ bytes: [UInt8], to out: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var size = bytes.count
        var digits: [UInt8] = []
        repeat {
            digits.append(hex[size & 15])
            size >>= 4
        } while size > 0
        out.append(contentsOf: digits.reversed())
        out.append(contentsOf: "\r\n".utf8)
        out.append(contentsOf: bytes)
        out.append(contentsOf: "\r\n".utf8)
    }

    /// `text` without leading and trailing spaces and tabs (OWS).
    private static func trimmingWhitespace(_ text: Substring) -> String {
        var slice = text
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }

    private static func isValidField(name: String, value: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy(ASCII.isTokenCharacter)
            && value.utf8.allSatisfy(ASCII.isFieldValueCharacter)
    }

    private static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        precondition(value >= 0)
        if value < 10 {
            out.append(UInt8(ascii: "0") &+ UInt8(value))
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var remaining = value
            var count = 0
            while remaining > 0 {
                digits[19 - count] = UInt8(ascii: "0") &+ UInt8(remaining % 10)
                remaining /= 10
                count += 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[(20 - count)...]))
        }
    }

    private static func appendStatic(_ string: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: string.utf8Start, count: string.utf8CodeUnitCount))
    }

    /// The reason phrase of RFC 9110 §15 for the codes that have one; empty otherwise, which the
    /// status-line grammar allows.
    static func reasonPhrase(_ status: Int) -> StaticString {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 203: "Non-Authoritative Information"
        case 204: "No Content"
        case 205: "Reset Content"
        case 206: "Partial Content"
        case 300: "Multiple Choices"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 402: "Payment Required"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 407: "Proxy Authentication Required"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 410: "Gone"
        case 411: "Length Required"
        case 412: "Precondition Failed"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 416: "Range Not Satisfiable"
        case 417: "Expectation Failed"
        case 421: "Misdirected Request"
        case 422: "Unprocessable Content"
        case 425: "Too Early"
        case 426: "Upgrade Required"
        case 428: "Precondition Required"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 451: "Unavailable For Legal Reasons"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: ""
        }
    }
}
