import VatKernel

/// Reads the kernel's values back from the JSON that `JSONWriter+KernelValues` wrote,
/// strictly: a missing field or a malformed ref is an error naming the field.
struct KernelValueReader {
    private let fields: [ByteString: JSONValue]
    /// Where this object sits, for error messages (`queue.event.message`).
    private let context: String

    init(_ value: JSONValue, _ context: String) throws {
        guard case .object(let o) = value else { throw RowError("\(context): expected an object") }
        fields = o
        self.context = context
    }

    func value(_ key: String) throws -> JSONValue {
        guard let v = fields[ByteString(key)] else { throw RowError("\(context): missing \(key)") }
        return v
    }

    func string(_ key: String) throws -> String {
        guard case .string(let s) = try value(key) else { throw RowError("\(context).\(key): expected a string") }
        return s
    }

    func int(_ key: String) throws -> Int {
        guard case .int(let n) = try value(key) else { throw RowError("\(context).\(key): expected an integer") }
        return n
    }

    func bool(_ key: String) throws -> Bool {
        guard case .bool(let b) = try value(key) else { throw RowError("\(context).\(key): expected true or false") }
        return b
    }

    func array(_ key: String) throws -> [JSONValue] {
        guard case .array(let a) = try value(key) else { throw RowError("\(context).\(key): expected an array") }
        return a
    }

    func reader(_ key: String) throws -> KernelValueReader { try KernelValueReader(value(key), "\(context).\(key)") }

    func kref(_ key: String) throws -> KRef { try Self.kref(string(key), "\(context).\(key)") }
    func vref(_ key: String) throws -> VRef { try Self.vref(string(key), "\(context).\(key)") }
    func vatID(_ key: String) throws -> VatID { try Self.vatID(string(key), "\(context).\(key)") }

    func optionalKRef(_ key: String) throws -> KRef? {
        if case .null = try value(key) { return nil }
        return try kref(key)
    }

    func optionalVRef(_ key: String) throws -> VRef? {
        if case .null = try value(key) { return nil }
        return try vref(key)
    }

    static func kref(_ text: String, _ context: String) throws -> KRef {
        guard let k = KRef(text) else { throw RowError("\(context): not a kref: \(text)") }
        return k
    }

    static func vref(_ text: String, _ context: String) throws -> VRef {
        guard let v = VRef(text) else { throw RowError("\(context): not a vref: \(text)") }
        return v
    }

    static func vatID(_ text: String, _ context: String) throws -> VatID {
        guard let v = VatID(text) else { throw RowError("\(context): not a vat ID: \(text)") }
        return v
    }

    static func strings(_ value: JSONValue, _ context: String) throws -> [String] {
        guard case .array(let a) = value else { throw RowError("\(context): expected an array") }
        return try a.map {
            guard case .string(let s) = $0 else { throw RowError("\(context): expected strings") }
            return s
        }
    }

    // MARK: Kernel values

    func capDataK() throws -> CapData<KRef> {
        CapData(body: try value("body"), slots: try Self.strings(value("slots"), "\(context).slots").map { try Self.kref($0, "\(context).slots") })
    }

    func capDataV() throws -> CapData<VRef> {
        CapData(body: try value("body"), slots: try Self.strings(value("slots"), "\(context).slots").map { try Self.vref($0, "\(context).slots") })
    }

    func message() throws -> Message {
        Message(methargs: try reader("methargs").capDataK(), result: try optionalKRef("result"))
    }

    /// Tags are matched by their bytes, like every string the store compares.
    func kernelEvent() throws -> KernelEvent {
        switch ByteString(try string("type")) {
        case "send": return .send(target: try kref("target"), message: try reader("message").message())
        case "notify": return .notify(vat: try vatID("vat"), kpid: try kref("kpid"))
        case "bringOutYourDead": return .bringOutYourDead(vat: try vatID("vat"))
        case let t: throw RowError("\(context).type: unknown event type \(t)")
        }
    }

    func vatResolution() throws -> VatResolution {
        VatResolution(vpid: try vref("vpid"), rejected: try bool("rejected"), data: try reader("data").capDataV())
    }

    func delivery() throws -> Delivery {
        func vrefs() throws -> [VRef] {
            try Self.strings(value("vrefs"), "\(context).vrefs").map { try Self.vref($0, "\(context).vrefs") }
        }
        let t = ByteString(try string("type"))
        guard let kind = Delivery.Kind(named: t) else { throw RowError("\(context).type: unknown delivery type \(t)") }
        switch kind {
        case .message:
            return .message(target: try vref("target"), methargs: try reader("methargs").capDataV(), result: try optionalVRef("result"))
        case .notify:
            return .notify(try array("resolutions").map { try KernelValueReader($0, "\(context).resolutions").vatResolution() })
        case .dropExports: return .dropExports(try vrefs())
        case .retireExports: return .retireExports(try vrefs())
        case .retireImports: return .retireImports(try vrefs())
        case .abandonImports: return .abandonImports(try vrefs())
        case .bringOutYourDead: return .bringOutYourDead
        case .startVat: return .startVat(vatParameters: try reader("vatParameters").capDataV())
        }
    }

    func termination() throws -> TerminationInfo {
        // Rows written before the host held exit reasons (§13.8) have no `reasonHeld`: their
        // slots were never counted, so nothing is held.
        TerminationInfo(isFailure: try bool("isFailure"), info: try reader("info").capDataK(), crank: try int("crank"),
                        reasonHeld: fields[ByteString("reasonHeld")] == nil ? false : try bool("reasonHeld"))
    }

    // MARK: Whole columns

    /// How deeply a column may nest. A capdata body nests as deeply as a request body may
    /// (`JSONValue.defaultMaxDepth`) and a column wraps it in a few levels of its own
    /// (`resolutions[].data.body`); 512 leaves room for that and still bounds the stack.
    static let maxDepth = 512

    /// Parses a JSON column; `context` names the table, row and column for errors.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>?, _ context: String) throws -> JSONValue {
        guard let bytes else { throw RowError("\(context): unexpected NULL") }
        do { return try JSONValue.parse(bytes, maxDepth: maxDepth) } catch { throw RowError("\(context): \(error)") }
    }
}

/// A row the store cannot read back; `load()` reports it as corruption.
struct RowError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
