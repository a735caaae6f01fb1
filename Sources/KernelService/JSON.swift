import VatKernel

/// A JSON document the service writes: like `JSONValue`, but objects keep their fields in the
/// order given, so answers read the way API.md shows them (`seq`, `crank`, `type`, …).
enum JSON: Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])
    /// A value the core's encoder wrote (`JSON.encoded`), so the API and the store write it
    /// from the same code.
    case encoded([UInt8])

    /// The bytes `body` writes into an answer writer (`JSONWriter.Doubles.answer`), whose
    /// doubles never throw: `try?` only drops an error a kernel value cannot raise there.
    static func encoded(_ body: (inout JSONWriter) throws -> Void) -> JSON {
        .encoded((try? JSONWriter.bytes(doubles: .answer, body)) ?? Array("null".utf8))
    }

    /// A string, or null for nil.
    static func orNull(_ s: String?) -> JSON { s.map { .string($0) } ?? .null }

    /// The description of a value (a ref or an ID), or null for nil.
    static func text<T: CustomStringConvertible>(_ v: T?) -> JSON { v.map { .string($0.description) } ?? .null }

    /// A kernel value, written by the core's one encoder for it (`JSONWriter.value`: keys
    /// sorted by their UTF-8 bytes), as the store writes it.
    init(_ v: JSONValue) { self = .encoded { try $0.value(v) } }

    /// The UTF-8 text, compact, doubles as answers write them (`JSONWriter.Doubles.answer`).
    var bytes: [UInt8] {
        var w = JSONWriter(doubles: .answer)
        write(to: &w)
        return w.bytes
    }

    /// Writes this document through the core's answer writer, fields in the order given.
    private func write(to w: inout JSONWriter) {
        switch self {
        case .null: w.null()
        case .bool(let b): w.bool(b)
        case .int(let i): w.int(i)
        case .double(let d): try? w.double(d)  // an answer writer does not throw
        case .encoded(let bytes): w.encoded(bytes)
        case .string(let s): w.string(s)
        case .array(let a):
            w.beginArray()
            for e in a { e.write(to: &w) }
            w.endArray()
        case .object(let fields):
            w.beginObject()
            for (k, v) in fields {
                w.key(k)
                v.write(to: &w)
            }
            w.endObject()
        }
    }
}

extension JSON: CustomStringConvertible {
    var description: String { String(decoding: bytes, as: UTF8.self) }
}
