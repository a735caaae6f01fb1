/// A JSON value, kept opaque by the kernel except for method names and the error values
/// the kernel itself creates. Standard library only, so the core stays free of Foundation.
///
/// Kept exactly as written: object keys are `ByteString`s and strings compare by their bytes,
/// so `{"\u00e9": 1, "e\u0301": 2}` has two keys and `.string("\u{E9}")` is not equal to
/// `.string("e\u{301}")`; doubles compare by bit pattern, so `-0.0` is not `0.0`.
public enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([ByteString: JSONValue])

    /// The body of an `Error(message)` value as this API writes it:
    /// `{"$error": message, "name": "Error"}`.
    public static func error(_ message: String) -> JSONValue {
        .object(["$error": .string(message), "name": .string("Error")])
    }

    /// `{"$slot": index}`: a reference to `slots[index]` inside a body.
    public static func slot(_ index: Int) -> JSONValue { .object(["$slot": .int(index)]) }

    /// Equal when of the same kind with the same bytes (strings, keys) and bits (doubles).
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x.bitPattern == y.bitPattern
        case let (.string(x), .string(y)): return x.hasSameBytes(as: y)
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x == y
        default: return false
        }
    }

    /// Hashes what `==` compares.
    public func hash(into h: inout Hasher) {
        switch self {
        case .null: h.combine(0)
        case .bool(let b): h.combine(1); h.combine(b)
        case .int(let i): h.combine(2); h.combine(i)
        case .double(let d): h.combine(3); h.combine(d.bitPattern)
        case .string(let s): h.combine(4); h.combine(ByteString(s))
        case .array(let a): h.combine(5); h.combine(a)
        case .object(let o): h.combine(6); h.combine(o)
        }
    }

    /// The value of `key` in an object; nil for a missing key or a value that is not an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[ByteString(key)] }
        return nil
    }

    /// The string, if this is one.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}

