/// Why a text is not acceptable JSON, and the byte offset where that was noticed.
///
/// `reason` reads as a phrase ("duplicate key \"a\"") so each layer can put it in its own
/// words: the service answers a 400 with it, the store names the row and column around it.
public struct JSONParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong with the text.
    public enum Reason: Equatable, Sendable, CustomStringConvertible {
        /// The text ended inside a value (or was empty).
        case unexpectedEnd
        /// A byte that cannot start a value here.
        case unexpectedCharacter
        /// A misspelt `true`, `false` or `null`.
        case invalidLiteral
        /// Inside an object, something other than a string (or the end of the text) where a key belongs.
        case expectedKey
        /// A key not followed by `:` (or followed by the end of the text).
        case expectedColon
        /// An object member not followed by `,` or `}`.
        case expectedCommaOrBrace
        /// An array element not followed by `,` or `]`.
        case expectedCommaOrBracket
        /// The same key twice in one object: RFC 8259 leaves the meaning open, so it is refused.
        case duplicateKey(String)
        /// A complete value followed by more than whitespace.
        case trailingText
        /// A number outside the RFC 8259 grammar (`01`, `1.`, `-`, `.5`).
        case invalidNumber
        /// A number too large for a `Double` (`1e400`).
        case numberOutOfRange
        /// An integer (digits alone) beyond the 64-bit range, which the kernel would have to
        /// round: refused rather than changed.
        case integerOutOfRange
        /// A nonzero number too small for a `Double` (`1e-400`), which would become `0`.
        case numberUnderflow
        /// A string with no closing quote.
        case unterminatedString
        /// A backslash followed by a letter JSON does not define.
        case invalidEscape
        /// `\u` not followed by four hex digits.
        case invalidUnicodeEscape
        /// A `\uD800`…`\uDFFF` escape that is not half of a high-low pair.
        case loneSurrogate
        /// A byte below U+0020 inside a string, which JSON requires escaped.
        case controlCharacter
        /// Bytes that are not well-formed UTF-8 (RFC 3629: no overlongs, no surrogates).
        case invalidUTF8
        /// Arrays and objects nested deeper than the parser's `maxDepth`.
        case tooDeep(limit: Int)

        public var description: String {
            switch self {
            case .unexpectedEnd: "unexpected end of JSON"
            case .unexpectedCharacter: "unexpected character"
            case .invalidLiteral: "invalid literal"
            case .expectedKey: "expected a string key"
            case .expectedColon: "expected ':'"
            case .expectedCommaOrBrace: "expected ',' or '}'"
            case .expectedCommaOrBracket: "expected ',' or ']'"
            case .duplicateKey(let key): "duplicate key \"\(key)\""
            case .trailingText: "unexpected text after the JSON value"
            case .invalidNumber: "invalid number"
            case .numberOutOfRange: "number out of range"
            case .integerOutOfRange: "integer beyond the 64-bit range (it cannot be kept exactly)"
            case .numberUnderflow: "nonzero number too small for a double (it would become 0)"
            case .unterminatedString: "unterminated string"
            case .invalidEscape: "invalid escape in string"
            case .invalidUnicodeEscape: "invalid \\u escape"
            case .loneSurrogate: "lone surrogate in string"
            case .controlCharacter: "control character in string"
            case .invalidUTF8: "invalid UTF-8"
            case .tooDeep(let limit): "JSON nested deeper than \(limit) levels"
            }
        }
    }

    /// One step from a value to a value inside it.
    public enum PathComponent: Sendable {
        /// The member of an object with this key.
        case key(String)
        /// The element of an array at this index.
        case index(Int)
    }

    /// What is wrong.
    public var reason: Reason
    /// The offset, in bytes from the start of the text, where the problem was noticed.
    public var offset: Int
    /// The value the problem is inside, outermost first (`[.key("syscalls"), .index(0)]`);
    /// empty for the document itself. Derived from the text and the offset, so it is not
    /// part of equality.
    public var path: [PathComponent] = []

    /// An error for `reason` noticed at byte `offset`.
    public init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    /// Equal reason and offset (the path follows from them).
    public static func == (a: JSONParseError, b: JSONParseError) -> Bool {
        a.reason == b.reason && a.offset == b.offset
    }

    /// The same error, one level further inside (`component` goes in front of the path).
    func inside(_ component: PathComponent) -> JSONParseError {
        var e = self
        e.path.insert(component, at: 0)
        return e
    }

    /// The path as a field name: `syscalls[0].methargs`; empty for the document itself.
    public var field: String {
        var out = ""
        for c in path {
            switch c {
            case .key(let k): out += out.isEmpty ? k : ".\(k)"
            case .index(let n): out += "[\(n)]"
            }
        }
        return out
    }

    /// `invalid JSON at byte 7: expected ':'`, with `(in syscalls[0].value)` when inside a value.
    public var description: String {
        path.isEmpty ? "invalid JSON at byte \(offset): \(reason)" : "invalid JSON at byte \(offset) (in \(field)): \(reason)"
    }
}
