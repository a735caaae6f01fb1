import Foundation
import Testing
import VatKernel
@testable import KernelStore
import TestSupport

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct TempDir {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.path
        path = "\(base)/vkstore-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The file's bytes, or nil if it does not exist.
func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

/// Runs a command; true if it exited with status 0.
@discardableResult
func sh(_ arguments: String...) -> Bool {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = arguments
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    do { try p.run() } catch { return false }
    p.waitUntilExit()
    return p.terminationStatus == 0
}

/// Whether this process may mount a tmpfs (root in a privileged container or on a host).
/// Needed for the read-only-file-system and real full-disk cases, since root ignores
/// permission bits.
let canMount: Bool = {
    guard let dir = try? TempDir() else { return false }
    defer { dir.remove() }
    guard sh("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir.path) else { return false }
    sh("umount", dir.path)
    return true
}()

/// A small tmpfs mounted on a fresh temporary directory, for the read-only and real full-disk
/// cases (tests that use it are enabled only `if: canMount`). `remove()` unmounts it and
/// removes the directory.
struct MountedTmpfs {
    /// The temporary directory; the tmpfs is mounted on its `mnt`.
    let dir: TempDir
    /// The mount point.
    let path: String

    init(size: String) throws {
        dir = try TempDir()
        path = dir.file("mnt")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        #expect(sh("mount", "-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path))
    }

    /// Leaves the file system without one free block: a file takes all that is left.
    func fill() {
        sh("dd", "if=/dev/zero", "of=\(path)/filler", "bs=4096")
    }

    func remove() {
        sh("umount", path)
        dir.remove()
    }
}

/// Whether `chattr +i` works here (the immutable flag stops even root from writing a file).
let canMakeImmutable: Bool = {
    guard let dir = try? TempDir() else { return false }
    defer { dir.remove() }
    let f = dir.file("probe")
    guard FileManager.default.createFile(atPath: f, contents: Data()), sh("chattr", "+i", f) else { return false }
    sh("chattr", "-i", f)
    return true
}()

/// Every row of every table, as text, in key order: what "no row behind" is checked against.
/// Read through a new connection, so it shows only what was committed.
func dump(_ path: String) throws -> [String] {
    let c = try SQLiteConnection(path: path, flags: 0x0000_0001 /* SQLITE_OPEN_READONLY */)
    defer { c.close() }
    var out: [String] = []
    for table in Schema.tables.sorted() {
        let s = try c.prepare("SELECT * FROM \(table) ORDER BY 1")
        defer { s.finalize() }
        while try s.step() {
            out.append("\(table): " + (0..<s.columnCount).map { s.text($0) ?? "NULL" }.joined(separator: " | "))
        }
    }
    return out
}

/// Takes a current database back to schema version 12: one row of `events` per event (the
/// version-10 form) with its `events_by_vat`, and `event_krefs` with its delete trigger, filled by the
/// version-8 rule. Does nothing to a database already so. Leaves `user_version` to the caller.
func undoVersion13(_ c: SQLiteConnection) throws {
    guard try c.integer("SELECT count(*) FROM sqlite_schema WHERE name = 'event_keys'") == 1 else { return }
    try c.execute("DROP INDEX events_by_vat; ALTER TABLE events RENAME TO events_v13; DROP TRIGGER events_unindex; \(Schema.version4) \(Schema.version10)")
    let read = try c.prepare("SELECT seq, crank, events, hashes FROM events_v13 ORDER BY seq")
    let write = try c.prepare("INSERT INTO events (seq, crank, type, vat, event, hashes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
    while try read.step() {
        var seq = read.int(0)
        let crank = read.int(1), hashes = read.blob(3)
        try read.withText(2) { text in
            try StoredEvent.forEachLine(text!) { type, vat, body in
                let type = String(decoding: type, as: UTF8.self)
                write.bind(1, seq)
                write.bind(2, crank)
                write.bind(3, type)
                write.bind(4, vat.isEmpty ? nil : String(decoding: vat, as: UTF8.self))
                write.bind(5, utf8: Array(body))
                write.bind(6, blob: type == "crank-finish" ? hashes : nil)
                try write.run()
                seq += 1
                return true
            }
        }
    }
    read.finalize()
    write.finalize()
    try c.execute("\(Schema.version8) \(Schema.version9) DROP TABLE events_v13; DROP TABLE event_keys;")
}

/// Takes a current database back to schema version 11 (no `clist_by_kref` index, and what
/// version 13 changed undone first), its rows as they are. Leaves `user_version` to the
/// caller, as `undoVersion11` does.
func undoVersion12(_ c: SQLiteConnection) throws {
    try undoVersion13(c)
    try c.execute("DROP INDEX clist_by_kref;")
}

/// Takes a current database back to before schema version 11 (no `delivery_values`, and what
/// version 12 added undone first), for tests that migrate from an older version; rows written
/// since keep their bodies whole (none shared).
func undoVersion11(_ c: SQLiteConnection) throws {
    try undoVersion12(c)
    #expect(try c.integer("SELECT count(*) FROM delivery_values") == 0)
    try c.execute("DROP TRIGGER deliveries_release_values; DROP TABLE delivery_values; ALTER TABLE deliveries DROP COLUMN value_refs;")
}

// MARK: Building kernel values


/// The tables in which two states differ (a readable failure instead of two whole states).
func differences(_ a: KernelState?, _ b: KernelState?) -> [String] {
    guard let a, let b else { return a == nil && b == nil ? [] : ["one state is nil"] }
    var d: [String] = []
    if a.counters != b.counters { d.append("counters: \(a.counters) vs \(b.counters)") }
    for (id, o) in a.objects where b.objects[id] != o { d.append("object ko\(id): \(o) vs \(String(describing: b.objects[id]))") }
    for id in b.objects.rows.keys where a.objects[id] == nil { d.append("object ko\(id) only in the second") }
    for (id, p) in a.promises where b.promises[id] != p { d.append("promise kp\(id): \(p) vs \(String(describing: b.promises[id]))") }
    for id in b.promises.rows.keys where a.promises[id] == nil { d.append("promise kp\(id) only in the second") }
    if a.vats != b.vats { d.append("vats") }
    func show(_ c: CList?) -> [String] { c.map { sorted($0).map { "\($0.kref)=\($0.entry.vref)\($0.entry.reachable ? "R" : "_")" } } ?? [] }
    for (vat, c) in a.clists where b.clists[vat] != c { d.append("clist \(vat): \(show(c)) vs \(show(b.clists[vat]))") }
    if a.clists.count != b.clists.count { d.append("clist count") }
    if a.vatstores != b.vatstores { d.append("vatstores") }
    if a.deliveryLogs != b.deliveryLogs { d.append("delivery logs") }
    if a.acceptanceQueue != b.acceptanceQueue { d.append("acceptance queue") }
    if a.runQueue != b.runQueue { d.append("run queue") }
    if a.reapQueue != b.reapQueue { d.append("reap queue") }
    if a.gcActions != b.gcActions { d.append("gc actions: \(a.gcActions.sorted()) vs \(b.gcActions.sorted())") }
    if a.pins != b.pins { d.append("pins") }
    if a.heldResults != b.heldResults { d.append("held results") }
    return d
}

extension Kernel {
    /// The vref `vat` knows `kref` by.
    func vref(_ vat: VatID, _ kref: KRef) -> String { state.clists[vat]![kref]!.vref.description }
    /// The kref behind the vref `vat` uses.
    func kref(_ vat: VatID, _ vref: String) -> KRef { state.clists[vat]![v(vref)]! }

    /// Runs cranks until idle, returning their reports (to compare two kernels step by step).
    func drain() throws -> [CrankReport] {
        var out: [CrankReport] = []
        while let r = try step() { out.append(r) }
        return out
    }
}
