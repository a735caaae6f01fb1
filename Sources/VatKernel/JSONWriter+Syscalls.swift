/// How syscalls are written as JSON: the event log's `vsc`, `ksc` and `vsr`, and a syscall
/// batch's `results` in the API's answer. Keys in sorted order, refs as their text, as
/// `JSONWriter+KernelValues` writes the other kernel values.
extension JSONWriter {
    /// A syscall as the vat posted it: the JSON the API parses (`POST /vats/{vatID}/syscalls`),
    /// keys sorted.
    public mutating func vatSyscall(_ s: Syscall) throws {
        beginObject()
        switch s {
        case .send(let target, let methargs, let result):
            try send(target, methargs, result)
        case .subscribe(let vpid):
            key("type"); string(s.typeName)
            key("vpid"); ref(vpid)
        case .resolve(let resolutions):
            key("resolutions")
            beginArray()
            for r in resolutions { try vatResolution(r) }
            endArray()
            key("type"); string(s.typeName)
        case .exit(let isFailure, let info):
            try exit(isFailure, info)
        case .dropImports(let vrefs), .retireImports(let vrefs), .retireExports(let vrefs), .abandonExports(let vrefs):
            key("type"); string(s.typeName)
            key("vrefs"); strings(vrefs)
        case .vatstoreGet(let k), .vatstoreDelete(let k):
            key("key"); string(k.string)
            key("type"); string(s.typeName)
        case .vatstoreSet(let k, let value):
            key("key"); string(k.string)
            key("type"); string(s.typeName)
            key("value"); string(value.string)
        case .vatstoreGetNextKey(let prior):
            key("priorKey"); string(prior.string)
            key("type"); string(s.typeName)
        }
        endObject()
    }

    /// A syscall in krefs: the shape of `vatSyscall` with krefs (`krefs`, `kpid`); the vatstore
    /// syscalls name no references and are written as the vat's.
    public mutating func kernelSyscall(_ s: KernelSyscall) throws {
        if case .vatstore(let vsc) = s { return try vatSyscall(vsc) }
        beginObject()
        switch s {
        case .send(let target, let m):
            try send(target, m.methargs, m.result)
        case .subscribe(let kpid):
            key("kpid"); ref(kpid)
            key("type"); string(Syscall.Kind.subscribe.rawValue)
        case .resolve(let resolutions):
            key("resolutions"); try kernelResolutions(resolutions)
            key("type"); string(Syscall.Kind.resolve.rawValue)
        case .exit(let isFailure, let info):
            try exit(isFailure, info)
        case .dropImports(let krefs): self.krefs(krefs, type: Syscall.Kind.dropImports.rawValue)
        case .retireImports(let krefs): self.krefs(krefs, type: Syscall.Kind.retireImports.rawValue)
        case .retireExports(let krefs): self.krefs(krefs, type: Syscall.Kind.retireExports.rawValue)
        case .abandonExports(let krefs): self.krefs(krefs, type: Syscall.Kind.abandonExports.rawValue)
        case .vatstore: break
        }
        endObject()
    }

    /// What a successful syscall returned, as a batch's `results` holds it: `null`, or the
    /// vatstore read's string or `null`.
    public mutating func syscallResult(_ r: SyscallResult) {
        switch r {
        case .ok: null()
        case .value(let v): optionalString(v?.string)
        }
    }

    /// SwingSet's syscall result, the event log's `vsr`: `["ok",null]`, `["ok","value"]`,
    /// `["error","problem"]`.
    public mutating func syscallTraceResult(_ r: SyscallTraceResult) {
        beginArray()
        switch r {
        case .ok(let result):
            string("ok"); syscallResult(result)
        case .error(let problem):
            string("error"); string(problem)
        }
        endArray()
    }

    /// `"methargs":…,"result":…,"target":…,"type":"send"`, in either side's refs.
    private mutating func send<Ref: CustomStringConvertible>(_ target: Ref, _ methargs: CapData<Ref>, _ result: Ref?) throws {
        try methargsAndResult(methargs, result)
        key("target"); refString(target)
        key("type"); string(Syscall.Kind.send.rawValue)
    }

    /// `"info":…,"isFailure":…,"type":"exit"`, in either side's refs.
    private mutating func exit<Ref: CustomStringConvertible>(_ isFailure: Bool, _ info: CapData<Ref>) throws {
        key("info"); try capData(info)
        key("isFailure"); bool(isFailure)
        key("type"); string(Syscall.Kind.exit.rawValue)
    }
}
