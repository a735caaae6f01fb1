import VatKernel

/// One journaled kernel table as the store keeps it: its SQL table and columns, how a key and
/// a row are bound for writing, and how a stored row is read back. Commit (`write`) and load
/// (`readState`) loop over `StoredTables.all`, so a table is mapped here once and nowhere else.
struct StoredTable<Rows: TableRows> {
    /// The SQL table.
    let table: String
    /// The primary key's columns, bound first in both the upsert and the delete.
    let keyColumns: [String]
    /// The other columns, bound after the key's by `bindRow`; none for a set.
    let rowColumns: [String]
    /// The crank delta's changes to this table (nil deletes the row). A closure, not a key
    /// path: it runs at every crank, and a stored key path is projected at run time.
    let changes: (CrankDelta) -> [Rows.Key: Rows.Row?]
    /// The table in the kernel's state.
    let state: WritableKeyPath<KernelState, JournaledTable<Rows>>
    /// Binds the key's columns, from parameter 1 on.
    let bindKey: (SQLiteStatement, Rows.Key) -> Void
    /// Binds the row's columns, after the key's.
    let bindRow: (SQLiteStatement, Rows.Row) throws -> Void
    /// A row read with `columns`, back into the kernel's key and value; a malformed row is a
    /// `RowError`.
    let readRow: (SQLiteStatement) throws -> (Rows.Key, Rows.Row)
    /// Appended to the load's SELECT, for a table whose rows must arrive in key order.
    var loadOrder: String = ""
    /// Makes room before the rows are read (a big table loads without regrowing).
    var reserve: ((SQLiteConnection, inout Rows) throws -> Void)? = nil

    /// Every column, key first, as `SELECT` lists them for `readRow`.
    var columns: String { (keyColumns + rowColumns).joined(separator: ", ") }

    /// Writes a row the crank left: `INSERT OR REPLACE`, or for a set `INSERT OR IGNORE`.
    /// `OR REPLACE` also drops any other row holding one of the table's unique values (a
    /// c-list vref the crank moved to another kref, whose own change is in the same delta).
    var upsertSQL: String {
        let all = keyColumns + rowColumns
        let params = (1...all.count).map { "?\($0)" }.joined(separator: ", ")
        let verb = rowColumns.isEmpty ? "INSERT OR IGNORE" : "INSERT OR REPLACE"
        return "\(verb) INTO \(table) (\(columns)) VALUES (\(params))"
    }

    /// Deletes the row the crank removed.
    var deleteSQL: String {
        let match = keyColumns.enumerated().map { "\($1) = ?\($0 + 1)" }.joined(separator: " AND ")
        return "DELETE FROM \(table) WHERE \(match)"
    }
}

/// A mapping with its rows' type erased: what commit and load call. Made by a generic
/// initializer from each concrete `StoredTable`, so its closures run code specialized for
/// that table's rows (behind a protocol existential they ran the generic code, 23% more
/// instructions per stored crank and twice the start-up).
struct AnyStoredTable {
    let table: String
    let keyColumns: [String]
    let rowColumns: [String]
    /// The table's statements, prepared on a connection for its life (appended to the list
    /// given, which finalizes them).
    let writer: (SQLiteConnection, inout [SQLiteStatement]) throws -> TableWriter
    /// Reads every row into the state's table.
    let load: (SQLiteConnection, inout KernelState) throws -> Void

    init<Rows>(_ t: StoredTable<Rows>) {
        table = t.table
        keyColumns = t.keyColumns
        rowColumns = t.rowColumns
        writer = { c, prepared in try t.writer(c, &prepared) }
        load = { c, s in try t.load(c, into: &s) }
    }
}

/// One table's prepared upsert and delete, run for each row a crank changed.
struct TableWriter {
    let write: (CrankDelta, inout RowWrites) throws -> Void
}

extension StoredTable {
    func writer(_ c: SQLiteConnection, _ prepared: inout [SQLiteStatement]) throws -> TableWriter {
        let put = try c.prepare(upsertSQL)
        prepared.append(put)
        let delete = try c.prepare(deleteSQL)
        prepared.append(delete)
        return TableWriter { d, w in
            for (k, r) in changes(d) {
                if let r {
                    bindKey(put, k)
                    try bindRow(put, r)
                    try w.run(put)
                } else {
                    bindKey(delete, k)
                    try w.run(delete)
                }
            }
        }
    }

    func load(_ c: SQLiteConnection, into s: inout KernelState) throws {
        // The table is taken out of the state while it fills, so it is never shared (no copy).
        var t = s[keyPath: state]
        s[keyPath: state] = JournaledTable()
        defer { s[keyPath: state] = t }
        try reserve?(c, &t.rows)
        let q = try c.prepare("SELECT \(columns) FROM \(table)\(loadOrder)")
        defer { q.finalize() }
        while try q.step() {
            let (k, r) = try readRow(q)
            t.rows.setRow(k, r)
        }
    }
}

/// The store's journaled tables, in load order: vats first, since a vat's c-list and vatstore
/// rows go into the containers its creation made.
enum StoredTables {
    static var all: [AnyStoredTable] {
        [.init(vats), .init(objects), .init(promises), .init(clist), .init(vatstore), .init(gcActions), .init(pins), .init(heldResults)]
    }

    /// The columns of the tables `SQLiteReader` reads, made once: a reader's every query
    /// would otherwise build the whole mapping to name them.
    static let vatColumns = vats.columns
    static let objectColumns = objects.columns
    static let promiseColumns = promises.columns

    static var vats: StoredTable<VatTable<VatRecord>> {
        StoredTable(table: "vats", keyColumns: ["vat_id"],
                    rowColumns: ["name", "options", "incarnation", "status", "termination", "vat_parameters",
                                 "next_object_import", "next_promise_import", "next_device_import", "cleaned_up",
                                 "deliveries_acknowledged", "token_sha256"],
                    changes: { $0.vats }, state: \.vats,
                    bindKey: { $0.bind(1, $1.description) }, bindRow: bind(_:vat:),
                    readRow: { r in let v = try r.vatRecord(); return (v.id, v) })
    }

    static var objects: StoredTable<[Int: KernelObject]> {
        StoredTable(table: "objects", keyColumns: ["id"], rowColumns: ["owner", "reachable", "recognizable"],
                    changes: { $0.objects }, state: \.objects,
                    bindKey: { $0.bind(1, $1) },
                    bindRow: { st, o in
                        st.bind(2, o.owner?.description)
                        st.bind(3, o.reachable)
                        st.bind(4, o.recognizable)
                    },
                    readRow: { r in (r.int(0), try r.kernelObject()) },
                    reserve: { c, rows in
                        if let n = try c.integer("SELECT count(*) FROM objects"), n > 0 { rows.reserveCapacity(n) }
                    })
    }

    static var promises: StoredTable<[Int: KernelPromise]> {
        StoredTable(table: "promises", keyColumns: ["id"],
                    rowColumns: ["state", "decider", "subscribers", "queue", "data", "refcount"],
                    changes: { $0.promises }, state: \.promises,
                    bindKey: { $0.bind(1, $1) },
                    bindRow: { st, p in
                        st.bind(2, p.state.rawValue)
                        st.bind(3, p.decider?.description)
                        st.bind(4, utf8: JSONWriter.bytes { $0.strings(p.subscribers) })
                        st.bind(5, utf8: try JSONWriter.bytes { try $0.messages(p.queue) })
                        st.bind(6, utf8: try p.data.map { data in try JSONWriter.bytes { try $0.capData(data) } })
                        st.bind(7, p.refCount)
                    },
                    readRow: { r in (r.int(0), try r.kernelPromise()) })
    }

    static var clist: StoredTable<CLists> {
        StoredTable(table: "clist", keyColumns: ["vat", "kref"], rowColumns: ["vref", "reachable"],
                    changes: { $0.clistEntries }, state: \.clists,
                    bindKey: { st, key in
                        st.bind(1, key.vat.description)
                        st.bind(2, key.kref.description)
                    },
                    bindRow: { st, e in
                        st.bind(3, e.vref.description)
                        st.bind(4, e.reachable)
                    },
                    readRow: { r in
                        let vat = try r.vatID(0, "clist row vat")
                        let kref = try r.kref(1, "clist row \(vat) kref")
                        return (CListKey(vat: vat, kref: kref), try r.clistEntry(vref: 2, reachable: 3, "clist row \(vat) \(kref)"))
                    },
                    reserve: { c, rows in
                        let q = try c.prepare("SELECT vat, count(*) FROM clist GROUP BY vat")
                        defer { q.finalize() }
                        while try q.step() { rows.reserveCapacity(q.int(1), for: try q.vatID(0, "clist row vat")) }
                    })
    }

    static var vatstore: StoredTable<Vatstores> {
        StoredTable(table: "vatstore", keyColumns: ["vat", "key"], rowColumns: ["value"],
                    changes: { $0.vatstore }, state: \.vatstores,
                    bindKey: { st, key in
                        st.bind(1, key.vat.description)
                        st.bind(2, key.key)
                    },
                    bindRow: { st, value in st.bind(3, value) },
                    readRow: { r in
                        let vat = try r.vatID(0, "vatstore row vat")
                        guard let key = r.byteText(1), let value = r.byteText(2) else {
                            throw RowError("vatstore row \(vat): key or value is not UTF-8 text")
                        }
                        return (VatstoreKey(vat: vat, key: key), value)
                    },
                    // Primary-key order is byte order (BINARY collation), so each key goes after the last.
                    loadOrder: " ORDER BY vat, key")
    }

    static var gcActions: StoredTable<Set<GCAction>> {
        StoredTable(table: "gc_actions", keyColumns: ["action"], rowColumns: [],
                    changes: { $0.gcActions }, state: \.gcActions,
                    bindKey: { $0.bind(1, $1.description) }, bindRow: { _, _ in },
                    readRow: { r in (try r.gcAction(), true) })
    }

    /// A pin count of zero is no row: the kernel removes the pin instead.
    static var pins: StoredTable<[KRef: Int]> {
        StoredTable(table: "pins", keyColumns: ["kref"], rowColumns: ["count"],
                    changes: { $0.pins }, state: \.pins,
                    bindKey: { $0.bind(1, $1.description) }, bindRow: { $0.bind(2, $1) },
                    readRow: { r in (try r.kref(0, "pins row"), r.int(1)) })
    }

    static var heldResults: StoredTable<Set<KRef>> {
        StoredTable(table: "held_results", keyColumns: ["kpid"], rowColumns: [],
                    changes: { $0.heldResults }, state: \.heldResults,
                    bindKey: { $0.bind(1, $1.description) }, bindRow: { _, _ in },
                    readRow: { r in (try r.kref(0, "held_results row"), true) })
    }

    /// A vat row's columns after its ID.
    private static func bind(_ st: SQLiteStatement, vat v: VatRecord) throws {
        st.bind(2, v.name)
        st.bind(3, utf8: try JSONWriter.bytes { try $0.value(v.options) })
        st.bind(4, v.incarnation)
        switch v.status {
        case .running:
            st.bind(5, "running")
            st.bind(6, utf8: nil)
        case .terminated(let info):
            st.bind(5, "terminated")
            st.bind(6, utf8: try JSONWriter.bytes { try $0.termination(info) })
        }
        st.bind(7, utf8: try JSONWriter.bytes { try $0.capData(v.vatParameters) })
        st.bind(8, v.nextObjectImport)
        st.bind(9, v.nextPromiseImport)
        st.bind(10, v.nextDeviceImport)
        st.bind(11, v.cleanedUp)
        st.bind(12, v.deliveriesAcknowledged)
        st.bind(13, v.tokenHash.map(Hex.encode))
    }
}
