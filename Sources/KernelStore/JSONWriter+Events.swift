import VatKernel

/// The parts of the event log's events that are values of their own (`kd`, `vsc`, `ksc`, `vsr`,
/// `request`, `message`): objects with sorted keys, as `delivery(_:)` writes a vat delivery.
extension JSONWriter {
    /// A delivery in krefs: the shape of `vd` with krefs (`krefs` for the GC deliveries, `kpid`
    /// in a notify's resolutions).
    mutating func kernelDelivery(_ d: KernelDelivery) throws {
        beginObject()
        switch d {
        case .message(let target, let m):
            key("methargs"); try capData(m.methargs)
            key("result"); optionalString(m.result)
            key("target"); string(target.description)
            key("type"); string("message")
        case .notify(let resolutions):
            key("resolutions"); try kernelResolutions(resolutions)
            key("type"); string("notify")
        case .dropExports(let krefs): krefsAndType(krefs, "dropExports")
        case .retireExports(let krefs): krefsAndType(krefs, "retireExports")
        case .retireImports(let krefs): krefsAndType(krefs, "retireImports")
        case .abandonImports(let krefs): krefsAndType(krefs, "abandonImports")
        case .bringOutYourDead:
            key("type"); string("bringOutYourDead")
        case .startVat(let vatParameters):
            key("type"); string("startVat")
            key("vatParameters"); try capData(vatParameters)
        }
        endObject()
    }

    /// A syscall as the vat posted it: the JSON of API.md, keys sorted.
    mutating func vatSyscall(_ s: Syscall) throws {
        beginObject()
        switch s {
        case .send(let target, let methargs, let result):
            key("methargs"); try capData(methargs)
            key("result"); optionalString(result)
            key("target"); string(target.description)
            key("type"); string("send")
        case .subscribe(let vpid):
            key("type"); string("subscribe")
            key("vpid"); string(vpid.description)
        case .resolve(let resolutions):
            key("resolutions")
            beginArray()
            for r in resolutions { try vatResolution(r) }
            endArray()
            key("type"); string("resolve")
        case .exit(let isFailure, let info):
            key("info"); try capData(info)
            key("isFailure"); bool(isFailure)
            key("type"); string("exit")
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

    /// A syscall in krefs: the shape of `vsc` with krefs (`krefs`, `kpid`); the vatstore
    /// syscalls name no references and are written as the vat's.
    mutating func kernelSyscall(_ s: KernelSyscall) throws {
        if case .vatstore(let vsc) = s { return try vatSyscall(vsc) }
        beginObject()
        switch s {
        case .send(let target, let m):
            key("methargs"); try capData(m.methargs)
            key("result"); optionalString(m.result)
            key("target"); string(target.description)
            key("type"); string("send")
        case .subscribe(let kpid):
            key("kpid"); string(kpid.description)
            key("type"); string("subscribe")
        case .resolve(let resolutions):
            key("resolutions"); try kernelResolutions(resolutions)
            key("type"); string("resolve")
        case .exit(let isFailure, let info):
            key("info"); try capData(info)
            key("isFailure"); bool(isFailure)
            key("type"); string("exit")
        case .dropImports(let krefs): krefsAndType(krefs, "dropImports")
        case .retireImports(let krefs): krefsAndType(krefs, "retireImports")
        case .retireExports(let krefs): krefsAndType(krefs, "retireExports")
        case .abandonExports(let krefs): krefsAndType(krefs, "abandonExports")
        case .vatstore: break
        }
        endObject()
    }

    /// SwingSet's syscall result: `["ok",null]`, `["ok","value"]`, `["error","problem"]`.
    mutating func syscallTraceResult(_ r: SyscallTraceResult) {
        beginArray()
        switch r {
        case .ok(.ok):
            string("ok"); null()
        case .ok(.value(let v)):
            string("ok"); optionalString(v?.string)
        case .error(let problem):
            string("error"); string(problem)
        }
        endArray()
    }

    /// The host request that began a crank, with its `type` (`create-vat`, `send`, …).
    mutating func hostRequest(_ r: HostRequest) throws {
        beginObject()
        switch r {
        case .createVat(let name, let options, let vatParameters):
            key("name"); string(name.string)
            key("options"); try value(options)
            key("type"); string(r.typeName)
            key("vatParameters"); try capData(vatParameters)
        case .send(let target, let methargs, let result):
            key("methargs"); try capData(methargs)
            key("result"); string(result.rawValue)
            key("target"); string(target.description)
            key("type"); string(r.typeName)
        case .syscalls(let vat, let count):
            key("count"); int(count)
            typeAndVat(r, vat)
        case .addExport(let vat, let vref):
            typeAndVat(r, vat)
            key("vref"); string(vref.description)
        case .pin(let kref), .unpin(let kref):
            key("kref"); string(kref.description)
            key("type"); string(r.typeName)
        case .releaseResult(let kpid):
            key("kpid"); string(kpid.description)
            key("type"); string(r.typeName)
        case .releaseTerminationReason(let vat), .bringOutYourDead(let vat):
            typeAndVat(r, vat)
        case .acknowledgeDeliveries(let vat, let through, let drop):
            key("drop"); bool(drop)
            key("through"); int(through)
            typeAndVat(r, vat)
        case .upgrade(let vat, let message, let vatParameters, let boyd, let startVat):
            key("boydSyscalls"); int(boyd)
            key("startVatSyscalls"); int(startVat)
            key("type"); string(r.typeName)
            key("upgradeMessage"); string(message)
            key("vatID"); string(vat.description)
            key("vatParameters"); try capData(vatParameters)
        case .terminate(let vat, let reason):
            key("reason"); string(reason)
            typeAndVat(r, vat)
        case .reconsider(let krefs):
            key("krefs"); strings(krefs)
            key("type"); string(r.typeName)
        }
        endObject()
    }

    private mutating func kernelResolutions(_ rs: [KernelResolution]) throws {
        beginArray()
        for r in rs {
            beginObject()
            key("data"); try capData(r.data)
            key("kpid"); string(r.kpid.description)
            key("rejected"); bool(r.rejected)
            endObject()
        }
        endArray()
    }

    private mutating func krefsAndType(_ krefs: [KRef], _ type: String) {
        key("krefs"); strings(krefs)
        key("type"); string(type)
    }

    private mutating func typeAndVat(_ r: HostRequest, _ vat: VatID) {
        key("type"); string(r.typeName)
        key("vatID"); string(vat.description)
    }
}
