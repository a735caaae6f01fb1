#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import VatKernel

/// Writes one crank's events as its row of `events` (Schema version 13), numbering them from the
/// store's next seq, and each vat and kref they mention as a row of `event_keys` (for
/// `GET /events?vat=` and `?kref=`).
///
/// One row per crank, not one per event: until version 13 a one-send crank's three events were
/// three rows with two `events_by_vat` entries and two `event_krefs` rows, five statements in
/// all, and SQLite's work on them was half of what the log cost. Now they are one row (with its
/// `events_by_vat` entry) and one `event_keys` row per kref: three statements. The krefs are
/// the strings the writer noted (`JSONWriter.kStrings`), not found by scanning the text again.
struct EventLog {
    let store: SQLiteStore
    let crank: Int
    let statement: SQLiteStatement
    let keyStatement: SQLiteStatement
    /// The writer each event's body is written into, its buffer kept from one event to the next.
    private var writer = JSONWriter(capacity: 512, notingKStrings: true)
    private var row: EventRow

    init(store: SQLiteStore, crank: Int, statement: SQLiteStatement, keyStatement: SQLiteStatement) {
        self.store = store
        self.crank = crank
        self.statement = statement
        self.keyStatement = keyStatement
        row = EventRow(firstSeq: store.nextEventSeq)
    }

    /// One event `{"seq","crank","type",…fields}`, kept as `StoredEvent` says: its line in the
    /// crank's row (type, vat, the fields as an object) and, for `crank-finish`, the row's
    /// `hashes`; `vat` is what `GET /events?vat=` finds it by. `fields` writes no `crankNum`
    /// (the reader adds it).
    mutating func add(_ type: String, vat: VatID?, hashes: [UInt8]? = nil, _ fields: (inout JSONWriter) throws -> Void) throws {
        writer.removeAll()
        writer.beginObject()
        try fields(&writer)
        writer.endObject()
        row.add(type: type, vat: vat?.description, body: writer.bytes, kStrings: writer.kStrings, hashes: hashes)
        store.nextEventSeq += 1
    }

    /// Writes the crank's row and its index entries (nothing if it logged no event).
    func finish() throws {
        try row.insert(crank: crank, statement, keyStatement)
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

    /// Whether the JSON text `body` mentions `kref` as `krefs(in:)` finds krefs.
    static func mentions(_ body: UnsafeBufferPointer<UInt8>, _ kref: [UInt8]) -> Bool {
        krefRanges(in: body).contains { body[$0].elementsEqual(kref) }
    }

    static func isKRef(_ s: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
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

/// One crank's row of `events` as it is built (`StoredEvent` says what it holds), and the
/// `event_keys` entries that go with it: the row's `vat` is the first vat its events are about,
/// and the keys each other vat and each kref they mention, once, in order of first mention.
/// The store's event log and the version-13 migration both build rows so.
struct EventRow {
    let firstSeq: Int
    private(set) var count = 0
    private var text: [UInt8] = []
    /// The `keys` column, a JSON array of strings, without its closing `]`. A key (`v1`,
    /// `ko20`) has no character JSON escapes, so its bytes in the text are the string itself.
    private var keyList: [UInt8] = [UInt8(ascii: "[")]
    /// Where in `keyList` each key is (without its quotes).
    private var keys: [Range<Int>] = []
    private var hashes: [UInt8]?
    /// The first vat an event of the row is about.
    private var vat: String?

    init(firstSeq: Int) {
        self.firstSeq = firstSeq
        text.reserveCapacity(1024)
        keyList.reserveCapacity(64)
    }

    /// The next event (seq `firstSeq + count`): its line, and its vat and krefs as keys; the
    /// krefs are found among `kStrings` (`JSONWriter.kStrings` of the writer that wrote `body`)
    /// if given, else by scanning `body` (`EventLog.krefRanges(in:)`, the same strings).
    mutating func add(type: String, vat: String?, body: [UInt8], kStrings: [Range<Int>]? = nil, hashes: [UInt8]?) {
        StoredEvent.appendLine(&text, type: type, vat: vat, body: body)
        if var vat {
            if self.vat == nil { self.vat = vat } else if vat != self.vat { vat.withUTF8 { addKey($0) } }
        }
        body.withUnsafeBufferPointer { b in
            if let kStrings {
                for s in kStrings where EventLog.isKRef(b[s]) { addKey(UnsafeBufferPointer(rebasing: b[s])) }
            } else {
                for kref in EventLog.krefRanges(in: b) { addKey(UnsafeBufferPointer(rebasing: b[kref])) }
            }
        }
        if let hashes { self.hashes = hashes }
        count += 1
    }

    private mutating func addKey(_ key: UnsafeBufferPointer<UInt8>) {
        let known = keyList.withUnsafeBufferPointer { list in
            keys.contains { $0.count == key.count && memcmp(list.baseAddress! + $0.lowerBound, key.baseAddress!, key.count) == 0 }
        }
        if known { return }
        if !keys.isEmpty { keyList.append(UInt8(ascii: ",")) }
        keyList.append(UInt8(ascii: "\""))
        let start = keyList.count
        keyList.append(contentsOf: key)
        keys.append(start..<keyList.count)
        keyList.append(UInt8(ascii: "\""))
    }

    /// Inserts the row (`statement`, `insertSQL`) and its keys
    /// (`keyStatement`, `keySQL`: seq, key), nothing when it holds no event.
    consuming func insert(crank: Int, _ statement: SQLiteStatement, _ keyStatement: SQLiteStatement) throws {
        guard count > 0 else { return }
        keyList.append(UInt8(ascii: "]"))
        statement.bind(1, firstSeq)
        statement.bind(2, crank)
        statement.bind(3, count)
        statement.bind(6, blob: hashes)
        statement.bind(7, vat)
        // The statements read the bytes where they are: each run resets its statement, which
        // lets go of them.
        try text.withUnsafeBufferPointer { text in
            try keyList.withUnsafeBufferPointer { keyList in
                statement.bind(4, borrowedUTF8: text)
                statement.bind(5, borrowedUTF8: keyList)
                try statement.run()
            }
        }
        try keyList.withUnsafeBufferPointer { list in
            for k in keys {
                keyStatement.bind(1, firstSeq)
                keyStatement.bind(2, borrowedUTF8: UnsafeBufferPointer(rebasing: list[k]))
                try keyStatement.run()
            }
        }
    }

    /// The statement `insert` writes the row with.
    static let insertSQL = "INSERT INTO events (seq, crank, count, events, keys, hashes, vat) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    /// The statement `insert` indexes the row with, one key at a time (a statement of several
    /// rows of VALUES cost SQLite more per key than one run each).
    static let keySQL = "INSERT INTO event_keys (seq, key) VALUES (?1, ?2)"
}
