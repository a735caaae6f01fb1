import VatKernel

/// The parts of the event log's events that are values of their own (`kd`, `request`): objects
/// with sorted keys, as `delivery(_:)` writes a vat delivery. The syscalls (`vsc`, `ksc`, `vsr`)
/// and the queued `message` are the core's (`JSONWriter+Syscalls`, `JSONWriter+KernelValues`).
extension JSONWriter {
    /// A delivery in krefs: the shape of `vd` with krefs (`krefs` for the GC deliveries, `kpid`
    /// in a notify's resolutions).
    mutating func kernelDelivery(_ d: KernelDelivery) throws {
        beginObject()
        switch d {
        case .message(let target, let m):
            try methargsAndResult(m.methargs, m.result)
            key("target"); ref(target)
            key("type"); string(Delivery.Kind.message.rawValue)
        case .notify(let resolutions):
            key("resolutions"); try kernelResolutions(resolutions)
            key("type"); string(Delivery.Kind.notify.rawValue)
        case .dropExports(let krefs): self.krefs(krefs, type: Delivery.Kind.dropExports.rawValue)
        case .retireExports(let krefs): self.krefs(krefs, type: Delivery.Kind.retireExports.rawValue)
        case .retireImports(let krefs): self.krefs(krefs, type: Delivery.Kind.retireImports.rawValue)
        case .abandonImports(let krefs): self.krefs(krefs, type: Delivery.Kind.abandonImports.rawValue)
        case .bringOutYourDead:
            key("type"); string(Delivery.Kind.bringOutYourDead.rawValue)
        case .startVat(let vatParameters):
            key("type"); string(Delivery.Kind.startVat.rawValue)
            key("vatParameters"); try capData(vatParameters)
        }
        endObject()
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
            key("target"); ref(target)
            key("type"); string(r.typeName)
        case .syscalls(let vat, let count):
            key("count"); int(count)
            typeAndVat(r, vat)
        case .addExport(let vat, let vref):
            typeAndVat(r, vat)
            key("vref"); ref(vref)
        case .pin(let kref), .unpin(let kref):
            key("kref"); ref(kref)
            key("type"); string(r.typeName)
        case .releaseResult(let kpid):
            key("kpid"); ref(kpid)
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
            key("vatID"); ref(vat)
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

    private mutating func typeAndVat(_ r: HostRequest, _ vat: VatID) {
        key("type"); string(r.typeName)
        key("vatID"); ref(vat)
    }
}
