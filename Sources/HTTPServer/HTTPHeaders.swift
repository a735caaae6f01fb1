/// The header fields of a request, in the order they arrived, with case-insensitive lookup.
///
/// Field names keep the spelling the client sent; lookups compare them ASCII-case-insensitively
/// (RFC 9110 §5.1). Repeated fields stay separate entries: ``values(for:)`` returns all of them.
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    /// One header field as received: its name and its value with surrounding whitespace removed.
    public typealias Field = (name: String, value: String)

    private var fields: [Field]

    /// An empty set of header fields.
    public init() {
        fields = []
    }

    /// Header fields in the given order.
    public init(_ fields: [(String, String)]) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    /// Fields already in their final form, as the parser builds them.
    init(fields: [Field]) {
        self.fields = fields
    }

    /// Header fields from a literal, e.g. `["Host": "example.com"]`, in the literal's order.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    /// The number of fields, repeated names counted once per occurrence.
    public var count: Int { fields.count }

    /// Whether there are no fields at all.
    public var isEmpty: Bool { fields.isEmpty }

    /// The value of the first field called `name` (any case), or nil if there is none.
    public subscript(name: String) -> String? {
        for field in fields where Self.namesEqual(field.name, name) {
            return field.value
        }
        return nil
    }

    /// The values of every field called `name` (any case), in arrival order.
    public func values(for name: String) -> [String] {
        fields.filter { Self.namesEqual($0.name, name) }.map(\.value)
    }

    /// Whether a field called `name` (any case) is present.
    public func contains(_ name: String) -> Bool {
        fields.contains { Self.namesEqual($0.name, name) }
    }

    /// Appends a field, keeping any existing fields of the same name.
    public mutating func add(name: String, value: String) {
        fields.append((name: name, value: value))
    }

    /// Iterates the fields in arrival order.
    public func makeIterator() -> IndexingIterator<[Field]> {
        fields.makeIterator()
    }

    /// The fields as `name: value` lines, for logs and test failures.
    public var description: String {
        fields.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
    }

    /// Two header sets are equal when they hold the same fields in the same order, names compared
    /// case-insensitively and values exactly.
    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        guard lhs.fields.count == rhs.fields.count else { return false }
        for (a, b) in zip(lhs.fields, rhs.fields) where !namesEqual(a.name, b.name) || a.value != b.value {
            return false
        }
        return true
    }

    /// ASCII case-insensitive comparison of two field names.
    static func namesEqual(_ a: String, _ b: String) -> Bool {
        let a = a.utf8, b = b.utf8
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where ASCII.lowercased(x) != ASCII.lowercased(y) {
            return false
        }
        return true
    }
}
