/// Every statement the store runs after opening, prepared once for the life of the connection.
final class Statements {
    let begin, savepoint, release, rollbackTo, commit, rollback: SQLiteStatement
    let putCounters: SQLiteStatement
    /// Each journaled table's upsert and delete (`StoredTables.all`), in its order.
    let tables: [TableWriter]
    let addQueued, removeQueued: SQLiteStatement
    let addDelivery: SQLiteStatement
    let deleteDelivery: SQLiteStatement
    let deliveriesAfter: SQLiteStatement
    let retainDeliveryValue, deliveryValue: SQLiteStatement
    let putActivity: SQLiteStatement
    let addEvent: SQLiteStatement
    let addEventKey: SQLiteStatement
    /// Takes out the events of a crank that failed, and their `event_keys` rows (the trigger).
    let dropEventsFrom: SQLiteStatement
    private var all: [SQLiteStatement] = []

    init(_ c: SQLiteConnection) throws {
        var all: [SQLiteStatement] = []
        func p(_ sql: String) throws -> SQLiteStatement {
            let s = try c.prepare(sql)
            all.append(s)
            return s
        }
        do {
            begin = try p("BEGIN IMMEDIATE")
            savepoint = try p("SAVEPOINT crank")
            release = try p("RELEASE crank")
            rollbackTo = try p("ROLLBACK TO crank")
            commit = try p("COMMIT")
            rollback = try p("ROLLBACK")
            putCounters = try p("""
                INSERT INTO counters (id, next_object, next_promise, next_vat, next_queue_id, crank)
                VALUES (1, ?1, ?2, ?3, ?4, ?5)
                ON CONFLICT (id) DO UPDATE SET next_object = ?1, next_promise = ?2, next_vat = ?3,
                    next_queue_id = ?4, crank = ?5
                """)
            tables = try StoredTables.all.map { try $0.writer(c, &all) }
            addQueued = try p("INSERT INTO queue (id, queue_name, event) VALUES (?1, ?2, ?3)")
            removeQueued = try p("DELETE FROM queue WHERE id = ?1 AND queue_name = ?2")
            putActivity = try p("""
                INSERT INTO activity (id, crank, crank_hash, activity_hash) VALUES (1, ?1, ?2, ?3)
                ON CONFLICT (id) DO UPDATE SET crank = ?1, crank_hash = ?2, activity_hash = ?3
                """)
            addEvent = try p(EventRow.insertSQL)
            addEventKey = try p(EventRow.keySQL)
            dropEventsFrom = try p("DELETE FROM events WHERE seq >= ?1")
            addDelivery = try p("INSERT INTO deliveries (vat, seq, crank, delivery, value_refs) VALUES (?1, ?2, ?3, ?4, ?5)")
            deleteDelivery = try p("DELETE FROM deliveries WHERE vat = ?1 AND seq = ?2")
            deliveriesAfter = try p(StoredRow.deliveriesAfter)
            retainDeliveryValue = try p("""
                INSERT INTO delivery_values (sha256, body, refs) VALUES (?1, ?2, 1)
                ON CONFLICT (sha256) DO UPDATE SET refs = refs + 1
                """)
            deliveryValue = try p(StoredRow.deliveryValue)
        } catch {
            for s in all { s.finalize() }
            throw error
        }
        self.all = all
    }

    func finalizeAll() {
        for s in all { s.finalize() }
        all = []
    }
}
