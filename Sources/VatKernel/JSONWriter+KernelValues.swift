/// How the kernel's values are written as JSON: the store's columns and the canonical
/// encoding a crank hash is computed over (`CrankDelta+Canonical`). Refs are their text (`ko21`,
/// `o+d5/3`, `v1`) so `json_extract` and a person can read them; keys in sorted order.
/// `KernelValueReader` reads each form back.
extension JSONWriter {
    /// `{"body":…,"slots":["ko21",…]}`
    @inlinable
    public mutating func capData<Slot: CustomStringConvertible>(_ c: CapData<Slot>) throws {
        beginObject()
        key("body"); try value(c.body)
        key("slots"); strings(c.slots)
        endObject()
    }

    /// `["v1","v2"]`, or any refs as their text.
    @inlinable
    public mutating func strings<T: CustomStringConvertible>(_ items: [T]) {
        beginArray()
        for s in items { refString(s) }
        endArray()
    }

    /// The ref's text, or `null`.
    @inlinable
    public mutating func optionalString<T: CustomStringConvertible>(_ item: T?) {
        if let item { refString(item) } else { null() }
    }

    /// `{"methargs":…,"result":"kp40"|null}`
    public mutating func message(_ m: Message) throws {
        beginObject()
        try methargsAndResult(m.methargs, m.result)
        endObject()
    }

    /// The fields `"methargs":…,"result":…` of a message, a send or a delivered message, in
    /// either side's refs.
    @inlinable
    public mutating func methargsAndResult<Ref: CustomStringConvertible>(_ methargs: CapData<Ref>, _ result: Ref?) throws {
        key("methargs"); try capData(methargs)
        key("result"); optionalString(result)
    }

    /// `[message, …]`
    public mutating func messages(_ ms: [Message]) throws {
        beginArray()
        for m in ms { try message(m) }
        endArray()
    }

    /// `{"message":…,"target":"ko21","type":"send"}`, `{"kpid":…,"type":"notify","vat":…}`,
    /// `{"type":"bringOutYourDead","vat":…}`.
    public mutating func kernelEvent(_ e: KernelEvent) throws {
        beginObject()
        switch e {
        case .send(let target, let m):
            key("message"); try message(m)
            key("target"); refString(target)
            key("type"); string("send")
        case .notify(let vat, let kpid):
            key("kpid"); ref(kpid)
            key("type"); string("notify")
            key("vat"); ref(vat)
        case .bringOutYourDead(let vat):
            key("type"); string("bringOutYourDead")
            key("vat"); ref(vat)
        }
        endObject()
    }

    /// A queued event as the API lists it (`GET /kernel/queues`): `{"id":7,"type":"send",
    /// "target":…,"methargs":…,"result":…}`, `{"id","type":"notify","vatID","kpid"}`,
    /// `{"id","type":"bringOutYourDead","vatID"}`; fields in that order, as API.md shows them.
    /// (The store's row and the crank hash keep `kernelEvent`'s older sorted form.)
    public mutating func queuedEvent(_ e: QueuedEvent) throws {
        beginObject()
        key("id"); int(e.id)
        switch e.event {
        case .send(let target, let m):
            key("type"); string("send")
            key("target"); refString(target)
            try methargsAndResult(m.methargs, m.result)
        case .notify(let vat, let kpid):
            key("type"); string("notify")
            key("vatID"); ref(vat)
            key("kpid"); ref(kpid)
        case .bringOutYourDead(let vat):
            key("type"); string("bringOutYourDead")
            key("vatID"); ref(vat)
        }
        endObject()
    }

    /// `[{"data":…,"kpid":"kp40","rejected":false}, …]`: resolutions in krefs.
    public mutating func kernelResolutions(_ rs: [KernelResolution]) throws {
        beginArray()
        for r in rs {
            beginObject()
            key("data"); try capData(r.data)
            key("kpid"); ref(r.kpid)
            key("rejected"); bool(r.rejected)
            endObject()
        }
        endArray()
    }

    /// `"krefs":[…],"type":…`: the fields of a GC syscall or delivery in krefs.
    public mutating func krefs(_ krefs: [KRef], type: String) {
        key("krefs"); strings(krefs)
        key("type"); string(type)
    }

    /// `{"data":…,"rejected":false,"vpid":"p-60"}`
    public mutating func vatResolution(_ r: VatResolution) throws {
        beginObject()
        key("data"); try capData(r.data)
        key("rejected"); bool(r.rejected)
        key("vpid"); ref(r.vpid)
        endObject()
    }

    /// A delivery with its `type` (`message`, `notify`, `dropExports`, …) and its fields.
    public mutating func delivery(_ d: Delivery) throws {
        beginObject()
        switch d {
        case .message(let target, let methargs, let result):
            key("methargs"); try capData(methargs)
            key("result"); optionalString(result)
            key("target"); refString(target)
        case .notify(let resolutions):
            key("resolutions")
            beginArray()
            for r in resolutions { try vatResolution(r) }
            endArray()
        case .dropExports(let vrefs), .retireExports(let vrefs), .retireImports(let vrefs), .abandonImports(let vrefs):
            key("type"); string(d.typeName)
            key("vrefs"); strings(vrefs)
            endObject()
            return
        case .bringOutYourDead:
            break
        case .startVat(let vatParameters):
            key("type"); string(d.typeName)
            key("vatParameters"); try capData(vatParameters)
            endObject()
            return
        }
        key("type"); string(d.typeName)
        endObject()
    }

    /// `{"crank":12,"info":…,"isFailure":true}`
    public mutating func termination(_ t: TerminationInfo) throws {
        beginObject()
        key("crank"); int(t.crank)
        key("info"); try capData(t.info)
        key("isFailure"); bool(t.isFailure)
        key("reasonHeld"); bool(t.reasonHeld)
        endObject()
    }
}
