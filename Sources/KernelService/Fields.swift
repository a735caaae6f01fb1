import VatKernel

/// Reads the fields of one JSON object of a request body, strictly: each field read is
/// checked for its type and grammar, and `finish()` refuses fields nobody read, so a typo
/// (`"vref"` for `"vrefs"`) is a 400 rather than a silently ignored value.
///
/// `path` names the object in error messages (`syscalls[2]`), so a 400 says which field.
struct Fields {
    let path: String
    private let fields: [ByteString: JSONValue]
    private var read: Set<ByteString> = []

    init(_ value: JSONValue, path: String) throws(ServiceError) {
        guard case .object(let o) = value else {
            throw .invalidField(path.isEmpty ? "body" : path, "must be a JSON object")
        }
        self.path = path
        fields = o
    }

    /// The name of a field in error messages.
    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The raw value, or nil when absent (JSON null counts as absent only where a reader says so).
    mutating func optional(_ key: String) -> JSONValue? {
        read.insert(ByteString(key))
        return fields[ByteString(key)]
    }

    mutating func required(_ key: String) throws(ServiceError) -> JSONValue {
        guard let v = optional(key) else { throw .invalidField(name(key), "is required") }
        return v
    }

    mutating func string(_ key: String) throws(ServiceError) -> String {
        try Fields.string(try required(key), name(key))
    }

    mutating func optionalString(_ key: String) throws(ServiceError) -> String? {
        guard let v = optional(key) else { return nil }
        return try Fields.string(v, name(key))
    }

    mutating func bool(_ key: String) throws(ServiceError) -> Bool {
        try Fields.bool(try required(key), name(key))
    }

    mutating func optionalBool(_ key: String) throws(ServiceError) -> Bool? {
        guard let v = optional(key) else { return nil }
        return try Fields.bool(v, name(key))
    }

    mutating func optionalInt(_ key: String) throws(ServiceError) -> Int? {
        guard let v = optional(key) else { return nil }
        return try Fields.int(v, name(key))
    }

    mutating func array(_ key: String) throws(ServiceError) -> [JSONValue] {
        try Fields.array(try required(key), name(key))
    }

    mutating func optionalArray(_ key: String) throws(ServiceError) -> [JSONValue]? {
        guard let v = optional(key) else { return nil }
        return try Fields.array(v, name(key))
    }

    /// Refuses any field that was not read.
    func finish() throws(ServiceError) {
        if let extra = fields.keys.filter({ !read.contains($0) }).min() {
            throw .invalidField(name(extra.string), "is not a known field")
        }
    }

    // MARK: Values

    static func string(_ v: JSONValue, _ name: String) throws(ServiceError) -> String {
        guard case .string(let s) = v else { throw .invalidField(name, "must be a string") }
        return s
    }

    static func bool(_ v: JSONValue, _ name: String) throws(ServiceError) -> Bool {
        guard case .bool(let b) = v else { throw .invalidField(name, "must be true or false") }
        return b
    }

    /// An integer; a JSON number with no fraction (`3.0`) counts, as in JSON Schema.
    static func int(_ v: JSONValue, _ name: String) throws(ServiceError) -> Int {
        switch v {
        case .int(let i): return i
        case .double(let d) where d == d.rounded() && abs(d) < 9e15: return Int(d)
        default: throw .invalidField(name, "must be an integer")
        }
    }

    static func array(_ v: JSONValue, _ name: String) throws(ServiceError) -> [JSONValue] {
        guard case .array(let a) = v else { throw .invalidField(name, "must be an array") }
        return a
    }

    static func vref(_ v: JSONValue, _ name: String) throws(ServiceError) -> VRef {
        let s = try string(v, name)
        guard let r = VRef(s), Limits.accepts(r) else {
            throw .invalidField(name, "\"\(s)\" is not a vref (o+N, o-N, p+N, p-N, o+dN/I:F…; ids and instances up to 12 digits, facets up to 4)")
        }
        return r
    }

    static func kref(_ v: JSONValue, _ name: String) throws(ServiceError) -> KRef {
        let s = try string(v, name)
        guard let r = KRef(s), Limits.accepts(r) else { throw .invalidField(name, "\"\(s)\" is not a kref (koN or kpN, N up to 15 digits)") }
        return r
    }

    static func vrefs(_ v: JSONValue, _ name: String) throws(ServiceError) -> [VRef] {
        var out: [VRef] = []
        for (n, e) in try array(v, name).enumerated() { out.append(try vref(e, "\(name)[\(n)]")) }
        return out
    }

    /// Capdata `{"body": any, "slots": [ref, ...]}`; `slots` may be omitted when empty.
    static func capData<Slot>(_ v: JSONValue, _ name: String,
                              slot: (JSONValue, String) throws(ServiceError) -> Slot) throws(ServiceError) -> CapData<Slot> {
        var f = try Fields(v, path: name)
        let body = try f.required("body")
        var slots: [Slot] = []
        if let raw = try f.optionalArray("slots") {
            for (n, e) in raw.enumerated() { slots.append(try slot(e, "\(name).slots[\(n)]")) }
        }
        try f.finish()
        return CapData(body: body, slots: slots)
    }

    /// Methargs: capdata whose body is `[method, [args...]]` (API.md).
    static func methargs<Slot>(_ v: JSONValue, _ name: String,
                               slot: (JSONValue, String) throws(ServiceError) -> Slot) throws(ServiceError) -> CapData<Slot> {
        let data = try capData(v, name, slot: slot)
        guard case .array(let parts) = data.body, parts.count == 2, case .string = parts[0], case .array = parts[1] else {
            throw .invalidField("\(name).body", "must be [method, [args...]]")
        }
        return data
    }
}
