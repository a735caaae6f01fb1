/// Splits a request-target (RFC 9112 §3.2) into a decoded path and query parameters.
///
/// Accepted forms: origin-form (`/path?query`), absolute-form (`http://host/path?query`, which
/// RFC 9112 §3.2.2 requires servers to accept) and, for OPTIONS only, asterisk-form (`*`).
/// authority-form belongs to CONNECT, which the server refuses before getting here.
enum RequestTarget {
    /// The parts of a target that handlers route on.
    struct Components: Equatable {
        var path: String
        var query: [String: String]
    }

    /// Parses and validates `bytes`. Every failure is a 400 carrying what was wrong.
    static func parse(_ bytes: UnsafeRawBufferPointer, method: String) -> Result<Components, HTTPProtocolError> {
        parse(bytes, allowsAsterisk: method == "OPTIONS")
    }

    /// Parses and validates `bytes`; `allowsAsterisk` says whether the method was OPTIONS.
    static func parse(_ bytes: UnsafeRawBufferPointer, allowsAsterisk: Bool) -> Result<Components, HTTPProtocolError> {
        guard !bytes.isEmpty else { return .failure(.badRequest("empty request target")) }
        for byte in bytes where !ASCII.isTargetCharacter(byte) {
            return .failure(.badRequest("invalid character in request target"))
        }
        if bytes.count == 1 && bytes[0] == UInt8(ascii: "*") {
            return allowsAsterisk
                ? .success(Components(path: "*", query: [:]))
                : .failure(.badRequest("asterisk-form request target is only allowed with OPTIONS"))
        }
        var pathStart = 0
        if bytes[0] != ASCII.slash {
            guard let start = absoluteFormPathStart(bytes) else {
                return .failure(.badRequest("request target must be origin-form or absolute-form"))
            }
            pathStart = start
        }
        var pathEnd = pathStart
        while pathEnd < bytes.count && bytes[pathEnd] != ASCII.question { pathEnd += 1 }

        let path: String
        if pathStart == pathEnd {
            path = "/"  // absolute-form with an empty path: RFC 9112 §3.2.1 says to use "/"
        } else {
            guard let decoded = percentDecode(UnsafeRawBufferPointer(rebasing: bytes[pathStart..<pathEnd]), plusAsSpace: false) else {
                return .failure(.badRequest("invalid percent-encoding in request path"))
            }
            path = decoded
        }
        var query: [String: String] = [:]
        if pathEnd < bytes.count {
            guard parseQuery(UnsafeRawBufferPointer(rebasing: bytes[(pathEnd + 1)...]), each: { query[$0] = $1 }) else {
                return .failure(.badRequest("invalid percent-encoding in query string"))
            }
        }
        return .success(Components(path: path, query: query))
    }

    /// The path of `target` cut at each `/`, then each piece percent-decoded on its own: an
    /// encoded slash (`%2F`) stays inside its segment instead of making a new one. The leading
    /// `/` starts the first segment (`/vats/v1` is `["vats", "v1"]`, `/` is `[""]`). Nil when the
    /// target is not origin-form or absolute-form, or a segment does not decode to UTF-8.
    static func pathSegments(_ target: String) -> [String]? {
        let utf8 = Array(target.utf8)
        return utf8.withUnsafeBytes { bytes -> [String]? in
            guard !bytes.isEmpty else { return nil }
            var start = 0
            if bytes[0] != ASCII.slash {
                guard let s = absoluteFormPathStart(bytes) else { return nil }
                start = s
            }
            var end = start
            while end < bytes.count && bytes[end] != ASCII.question { end += 1 }
            if start == end { return [""] }  // absolute-form with an empty path: "/"
            guard bytes[start] == ASCII.slash else { return nil }
            var segments: [String] = []
            var segmentStart = start + 1
            var index = segmentStart
            while true {
                if index == end || bytes[index] == ASCII.slash {
                    guard let segment = percentDecode(
                        UnsafeRawBufferPointer(rebasing: bytes[segmentStart..<index]), plusAsSpace: false)
                    else { return nil }
                    segments.append(segment)
                    if index == end { break }
                    segmentStart = index + 1
                }
                index += 1
            }
            return segments
        }
    }

    /// Every `name=value` piece of the query of `target`, decoded, in the order sent and with
    /// repeats kept (`?a=1&a=2` is two items). Empty when there is no query or it does not decode
    /// (the server refuses such a target before any handler sees it).
    static func queryItems(_ target: String) -> [(name: String, value: String)] {
        let utf8 = Array(target.utf8)
        return utf8.withUnsafeBytes { bytes in
            guard let question = bytes.firstIndex(of: ASCII.question) else { return [] }
            var items: [(name: String, value: String)] = []
            guard parseQuery(UnsafeRawBufferPointer(rebasing: bytes[(question + 1)...]), each: { items.append(($0, $1)) }) else {
                return []
            }
            return items
        }
    }

    /// For `http://authority/path` or `https://...`: the index where the path (or query) begins,
    /// which is the end of the target when there is neither. Nil for anything that isn't an
    /// http(s) absolute URI.
    private static func absoluteFormPathStart(_ bytes: UnsafeRawBufferPointer) -> Int? {
        let schemeLength: Int
        if hasPrefixIgnoringCase(bytes, "http://") {
            schemeLength = 7
        } else if hasPrefixIgnoringCase(bytes, "https://") {
            schemeLength = 8
        } else {
            return nil
        }
        var index = schemeLength
        while index < bytes.count && bytes[index] != ASCII.slash && bytes[index] != ASCII.question {
            if bytes[index] == UInt8(ascii: "@") { return nil }  // userinfo is deprecated and unsafe
            index += 1
        }
        return index > schemeLength ? index : nil
    }

    private static func hasPrefixIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard bytes.count >= count else { return false }
        return ASCII.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: bytes[0..<count]), prefix)
    }

    /// `name=value&name2=value2`, each piece decoded and handed to `each` in order; empty pieces
    /// are skipped and a piece without `=` has an empty value. False when some piece does not decode.
    private static func parseQuery(_ bytes: UnsafeRawBufferPointer, each: (String, String) -> Void) -> Bool {
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != ASCII.ampersand { end += 1 }
            if end > start {
                var equals = start
                while equals < end && bytes[equals] != ASCII.equals { equals += 1 }
                guard let name = percentDecode(UnsafeRawBufferPointer(rebasing: bytes[start..<equals]), plusAsSpace: true)
                else { return false }
                let value: String
                if equals < end {
                    guard let decoded = percentDecode(UnsafeRawBufferPointer(rebasing: bytes[(equals + 1)..<end]), plusAsSpace: true)
                    else { return false }
                    value = decoded
                } else {
                    value = ""
                }
                each(name, value)
            }
            start = end + 1
        }
        return true
    }

    /// Decodes `%XX` escapes (and `+` as a space when asked). Nil for a malformed escape or a
    /// result that is not UTF-8.
    static func percentDecode(_ bytes: UnsafeRawBufferPointer, plusAsSpace: Bool) -> String? {
        var needsDecoding = false
        for byte in bytes where byte == ASCII.percent || (plusAsSpace && byte == ASCII.plus) {
            needsDecoding = true
            break
        }
        if !needsDecoding {
            return String(validating: bytes, as: UTF8.self)
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == ASCII.percent {
                guard index + 2 < bytes.count,
                    let high = ASCII.hexValue(bytes[index + 1]), let low = ASCII.hexValue(bytes[index + 2])
                else { return nil }
                decoded.append(high << 4 | low)
                index += 3
            } else {
                decoded.append(plusAsSpace && byte == ASCII.plus ? ASCII.space : byte)
                index += 1
            }
        }
        return String(validating: decoded, as: UTF8.self)
    }
}
