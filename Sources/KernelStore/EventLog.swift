import VatKernel

/// Writes one crank's events as rows of `events`, numbering them from the store's next seq, and
/// each kref an event mentions as a row of `event_krefs` (for `GET /events?kref=`).
struct EventLog {
    let store: SQLiteStore
    let crank: Int
    let statement: SQLiteStatement
    let krefStatement: SQLiteStatement
    /// The writer each event is written into, its buffer kept from one event to the next.
    private var writer = JSONWriter(capacity: 512)

    init(store: SQLiteStore, crank: Int, statement: SQLiteStatement, krefStatement: SQLiteStatement) {
        self.store = store
        self.crank = crank
        self.statement = statement
        self.krefStatement = krefStatement
    }

    /// One event `{"seq","crank","type",…fields}`, stored as `StoredEvent` says: the row's
    /// columns, the fields as an object and `hashes` (crank-finish); `vat` is what
    /// `GET /events?vat=` finds it by. `fields` writes no `crankNum` (the reader adds it).
    mutating func add(_ type: String, vat: VatID?, hashes: [UInt8]? = nil, _ fields: (inout JSONWriter) throws -> Void) throws {
        let seq = store.nextEventSeq
        writer.removeAll()
        writer.beginObject()
        try fields(&writer)
        writer.endObject()
        statement.bind(1, seq)
        statement.bind(2, crank)
        statement.bind(3, type)
        statement.bind(4, vat: vat)
        statement.bind(6, blob: hashes)
        // The statements read the event's bytes where the writer holds them: each run resets
        // its statement, which lets go of them.
        try writer.bytes.withUnsafeBufferPointer { json in
            statement.bind(5, borrowedUTF8: json)
            try statement.run()
            for kref in Self.krefRanges(in: json) {
                krefStatement.bind(1, borrowedUTF8: UnsafeBufferPointer(rebasing: json[kref]))
                krefStatement.bind(2, seq)
                try krefStatement.run()
            }
        }
        store.nextEventSeq = seq + 1
    }

    /// Every distinct string value (not key) of the JSON text `json` that is a canonical kref,
    /// as Schema's `krefTest` reads one: `k`, `o`/`p`/`d`, then `0` or up to 17 digits without a
    /// leading zero; in order of first mention. Any event type is indexed so, whoever writes it.
    /// (A kref has no character JSON escapes, so its bytes in the text are the string itself.)
    static func krefs(in json: [UInt8]) -> [ArraySlice<UInt8>] {
        json.withUnsafeBufferPointer { krefRanges(in: $0) }.map { json[$0] }
    }

    /// Where in `json` the strings `krefs(in:)` finds are (without their quotes).
    static func krefRanges(in json: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var i = 0
        let n = json.count
        while i < n {
            guard json[i] == UInt8(ascii: "\"") else { i += 1; continue }
            let start = i + 1
            var j = start
            while j < n, json[j] != UInt8(ascii: "\"") { j += json[j] == UInt8(ascii: "\\") ? 2 : 1 }
            let string = start..<min(j, n)
            i = j + 1
            if i < n, json[i] == UInt8(ascii: ":") { continue }
            if isKRef(json[string]), !out.contains(where: { json[$0].elementsEqual(json[string]) }) { out.append(string) }
        }
        return out
    }

    private static func isKRef(_ s: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        guard s.count >= 3, s.count <= 19, s.first == UInt8(ascii: "k") else { return false }
        let kind = s[s.startIndex + 1]
        guard kind == UInt8(ascii: "o") || kind == UInt8(ascii: "p") || kind == UInt8(ascii: "d") else { return false }
        let digits = s[(s.startIndex + 2)...]
        guard digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return false }
        return digits.first != UInt8(ascii: "0") || digits.count == 1
    }

    /// One trace entry as its event.
    mutating func add(_ entry: CrankTraceEntry) throws {
        switch entry {
        case .deliver(let vat, let record, let kd):
            try add("deliver", vat: vat) { w in
                w.key("vatID"); w.ref(vat)
                w.key("deliveryNum"); w.int(record.seq)
                w.key("kd"); try w.kernelDelivery(kd)
                w.key("vd"); try w.delivery(record.delivery)
            }
        case .syscall(let vat, let index, let vsc, let ksc, let result):
            try add("syscall", vat: vat) { w in
                w.key("vatID"); w.ref(vat)
                w.key("syscallNum"); w.int(index)
                w.key("ksc")
                if let ksc { try w.kernelSyscall(ksc) } else { w.null() }
                w.key("vsc"); try w.vatSyscall(vsc)
                w.key("vsr"); w.syscallTraceResult(result)
            }
        case .illegalSyscall(let vat, let index, let syscall, let problem):
            try add("illegal-syscall", vat: vat) { w in
                w.key("vatID"); w.ref(vat)
                w.key("syscallNum"); w.int(index)
                w.key("syscall"); w.string(syscall)
                w.key("problem"); w.string(problem)
            }
        case .objectExported(let kref, let vat, let vref):
            try add("object-exported", vat: vat) { w in
                w.key("kref"); w.ref(kref)
                w.key("vatID"); w.ref(vat)
                w.key("vref"); w.ref(vref)
            }
        case .objectOrphaned(let kref, let formerOwner):
            try add("object-orphaned", vat: formerOwner) { w in
                w.key("kref"); w.ref(kref)
                w.key("vatID"); w.ref(formerOwner)
            }
        case .objectRetired(let kref, let owner):
            try add("object-retired", vat: owner) { w in
                w.key("kref"); w.ref(kref)
                w.key("vatID"); w.optionalString(owner)
            }
        case .promiseSettled(let kpid, let decider, let rejected, let data):
            try add(rejected ? "promise-rejected" : "promise-fulfilled", vat: decider) { w in
                w.key("kpid"); w.ref(kpid)
                w.key("decider"); w.optionalString(decider)
                w.key("data"); try w.capData(data)
            }
        default:
            try addLifecycle(entry)
        }
    }

    /// The vat lifecycle entries.
    private mutating func addLifecycle(_ entry: CrankTraceEntry) throws {
        switch entry {
        case .vatCreated(let vat, let name, let options, let vatParameters):
            try add("create-vat", vat: vat) { w in
                w.key("vatID"); w.ref(vat)
                w.key("name"); w.string(name.string)
                w.key("options"); try w.value(options)
                w.key("vatParameters"); try w.capData(vatParameters)
            }
        case .vatTerminated(let vat, let isFailure, let info):
            try add("terminate", vat: vat) { w in
                w.key("vatID"); w.ref(vat)
                w.key("shouldReject"); w.bool(isFailure)
                w.key("info"); try w.capData(info)
            }
        case .vatCleanup(let vat, let work, let done):
            try add("vat-cleanup", vat: vat) { w in
                w.key("vatID"); w.ref(vat)
                w.key("work")
                w.beginObject()
                w.key("exports"); w.int(work.exports)
                w.key("imports"); w.int(work.imports)
                w.key("kv"); w.int(work.kv)
                w.key("promises"); w.int(work.promises)
                w.endObject()
            }
            if done {
                try add("vat-cleanup-complete", vat: vat) { w in w.key("vatID"); w.ref(vat) }
            }
        case .vatUpgraded(let vat, let incarnation, let newIncarnation, let abandoned):
            try add("vat-upgrade", vat: vat) { w in
                w.key("vatID"); w.ref(vat)
                w.key("incarnationNumber"); w.int(incarnation)
                w.key("newIncarnationNumber"); w.int(newIncarnation)
                w.key("abandoned"); w.strings(abandoned)
            }
        default:
            preconditionFailure("not a lifecycle entry: \(entry)")
        }
    }
}
