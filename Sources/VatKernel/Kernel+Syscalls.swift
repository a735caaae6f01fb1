/// What became of a posted syscall batch (one crank, KERNEL-SPEC §13.1).
public enum SyscallBatchOutcome: Hashable, Sendable {
    /// Every syscall ran; the crank committed (if it changed anything). One result per syscall.
    case committed([SyscallResult])
    /// The batch called `exit`. A happy exit commits the batch; a failure rolls it back.
    /// Either way the vat is now terminated.
    case exited(isFailure: Bool, results: [SyscallResult])
    /// Syscall `index` (of type `syscall`) broke a rule: the batch was rolled back and the
    /// vat terminated with `Error(problem)`.
    case illegal(index: Int, syscall: String, problem: String)
}

extension Kernel {
    /// Runs a vat's syscall batch as one crank.
    ///
    /// Throws (changing nothing) if the vat is unknown or already terminated, or the batch is
    /// too long. An illegal syscall is not a throw: it is the vat's death, reported in the outcome.
    public func syscalls(_ batch: [Syscall], from vat: VatID) throws(KernelError) -> SyscallBatchOutcome {
        guard let record = state.vats[vat] else { throw KernelError.unknownVat(vat) }
        guard record.isAlive else { throw KernelError.vatTerminated(vat) }
        guard batch.count <= configuration.maxSyscallsPerBatch else {
            throw KernelError.rejected("a batch holds at most \(configuration.maxSyscallsPerBatch) syscalls, not \(batch.count)")
        }
        return try crank(CrankStart(kind: .host, vat: vat, request: .syscalls(vat: vat, count: batch.count))) {
            var results: [SyscallResult] = []
            results.reserveCapacity(batch.count)
            var exit: ExitRequest?
            // An illegal syscall undoes the whole batch and kills the vat (§13.2).
            func fatal(_ illegal: IllegalSyscall, index: Int, syscall: Syscall) throws -> SyscallBatchOutcome {
                rollback()
                traceEvent(.syscall(vat: vat, index: index, vsc: syscall, ksc: nil, result: .error(illegal.problem)))
                traceEvent(.illegalSyscall(vat: vat, index: index, syscall: syscall.typeName, problem: illegal.problem))
                try terminateVat(vat, isFailure: true, info: .error(illegal.problem))
                return .illegal(index: index, syscall: syscall.typeName, problem: illegal.problem)
            }
            for (index, syscall) in batch.enumerated() {
                do {
                    results.append(try execute(syscall, from: vat, index: index, exit: &exit))
                } catch let illegal as IllegalSyscall {
                    return try fatal(illegal, index: index, syscall: syscall)
                }
            }
            if let exit {
                var info = exit.info
                if exit.isFailure {
                    // The reason's krefs were mapped by the part of the batch being undone: a
                    // new export or promise there is gone with the rollback, and its number
                    // would be handed out again. Map the vat's words again, in the state that
                    // stays, so every kref in the recorded reason is allocated and committed.
                    rollback()
                    let vsc = batch[exit.index]
                    let slot = trace.count
                    traceEvent(.syscall(vat: vat, index: exit.index, vsc: vsc, ksc: nil, result: .ok(.ok)))
                    do {
                        info = try mapV2K(vat, exit.vatInfo)
                    } catch let illegal as IllegalSyscall {
                        return try fatal(illegal, index: exit.index, syscall: vsc)
                    }
                    trace[slot] = .syscall(vat: vat, index: exit.index, vsc: vsc, ksc: .exit(isFailure: true, info: info), result: .ok(.ok))
                }
                try terminateVat(vat, isFailure: exit.isFailure, info: info)
                return .exited(isFailure: exit.isFailure, results: exit.isFailure ? [] : results)
            }
            return .committed(results)
        }
    }

    /// Runs syscalls inside an already open crank (upgrade uses this for the old
    /// incarnation's last words and the new one's startVat). `exit` is not allowed there.
    func executeWithinCrank(_ batch: [Syscall], from vat: VatID) throws {
        var exit: ExitRequest?
        for (index, syscall) in batch.enumerated() {
            _ = try execute(syscall, from: vat, index: index, exit: &exit)
            if exit != nil { throw IllegalSyscall("syscall.exit is not allowed during an upgrade") }
        }
    }

    /// Translates then executes one syscall (§5), tracing it in both forms before what it
    /// causes. Rule violations throw `IllegalSyscall` (the caller traces those).
    func execute(_ syscall: Syscall, from vat: VatID, index: Int, exit: inout ExitRequest?) throws -> SyscallResult {
        let slot = trace.count
        traceEvent(.syscall(vat: vat, index: index, vsc: syscall, ksc: nil, result: .ok(.ok)))
        let (result, ksc) = try translateAndExecute(syscall, from: vat, index: index, exit: &exit)
        trace[slot] = .syscall(vat: vat, index: index, vsc: syscall, ksc: ksc, result: .ok(result))
        return result
    }

    private func translateAndExecute(_ syscall: Syscall, from vat: VatID, index: Int,
                                     exit: inout ExitRequest?) throws -> (SyscallResult, KernelSyscall) {
        switch syscall {
        case .send(let target, let methargs, let result):
            let (ktarget, message) = try syscallSend(vat, target: target, methargs: methargs, result: result)
            return (.ok, .send(target: ktarget, message: message))
        case .subscribe(let vpid):
            return (.ok, .subscribe(kpid: try syscallSubscribe(vat, vpid)))
        case .resolve(let resolutions):
            return (.ok, .resolve(try syscallResolve(vat, resolutions)))
        case .exit(let isFailure, let info):
            // The last exit wins (KERNEL-SPEC §13.8): each one replaces the request an earlier
            // one recorded, as SwingSet overwrites vatRequestedTermination.
            let kinfo = try mapV2K(vat, info)
            exit = ExitRequest(index: index, isFailure: isFailure, info: kinfo, vatInfo: info)
            return (.ok, .exit(isFailure: isFailure, info: kinfo))
        case .dropImports(let vrefs):
            var krefs: [KRef] = []
            for vref in vrefs {
                guard vref.isObjectImport else { throw IllegalSyscall("syscall.dropImports but \(vref) is not an object import") }
                let kref = try mapV2K(vat, vref, setReachable: false, required: true)
                try clearReachableFlag(vat, kref)
                krefs.append(kref)
            }
            return (.ok, .dropImports(krefs))
        case .retireImports(let vrefs):
            var krefs: [KRef] = []
            for vref in vrefs {
                guard vref.isObjectImport else { throw IllegalSyscall("syscall.retireImports but \(vref) is not an object import") }
                let kref = try mapV2K(vat, vref, setReachable: false, required: true)
                if state.clists[vat]![kref]!.reachable {
                    throw IllegalSyscall("syscall.retireImports but \(vref) is still reachable")
                }
                try deleteCListEntry(vat, kref)
                krefs.append(kref)
            }
            return (.ok, .retireImports(krefs))
        case .retireExports(let vrefs):
            return (.ok, .retireExports(try syscallRetireExports(vat, vrefs)))
        case .abandonExports(let vrefs):
            return (.ok, .abandonExports(try syscallAbandonExports(vat, vrefs)))
        case .vatstoreGet(let key):
            return (.value(state.vatstores[vat]?[key]), .vatstore(syscall))
        case .vatstoreSet(let key, let value):
            setVatstore(vat, key, value)
        case .vatstoreDelete(let key):
            if state.vatstores[vat]?[key] != nil { setVatstore(vat, key, nil) }
        case .vatstoreGetNextKey(let prior):
            return (.value(state.vatstores[vat]?.key(after: prior)), .vatstore(syscall))
        }
        return (.ok, .vatstore(syscall))
    }

    private func syscallRetireExports(_ vat: VatID, _ vrefs: [VRef]) throws -> [KRef] {
        var krefs: [KRef] = []
        for vref in vrefs {
            guard vref.isExport else { throw IllegalSyscall("syscall.retireExports but \(vref) is not an object export") }
            let kref = try mapV2K(vat, vref, setReachable: false, required: true)
            if state.clists[vat]![kref]!.reachable {
                throw IllegalSyscall("syscall.retireExports but \(vref) is still reachable")
            }
            try deleteCListEntry(vat, kref)
            krefs.append(kref)
        }
        try retireKernelObjects(krefs)
        return krefs
    }

    private func syscallAbandonExports(_ vat: VatID, _ vrefs: [VRef]) throws -> [KRef] {
        var seen: Set<VRef> = []
        var krefs: [KRef] = []
        for vref in vrefs {
            guard vref.isExport else { throw IllegalSyscall("syscall.abandonExports but \(vref) is not an object export") }
            guard seen.insert(vref).inserted else {
                throw IllegalSyscall("syscall.abandonExports names \(vref) twice")
            }
            krefs.append(try mapV2K(vat, vref, setReachable: false, required: true))
        }
        for kref in krefs { try orphanKernelObject(kref, formerOwner: vat) }
        return krefs
    }

    /// §5.1: the target and slots are mapped (new exports allocate), the result must be an
    /// unresolved promise decided by the vat, whose decider is then cleared (the message holds
    /// the authority). It must be brand-new unless the vat pipelines: a pipelining vat may pass
    /// on a result it received, or a promise it exported earlier, even in this send's arguments.
    private func syscallSend(_ vat: VatID, target: VRef, methargs: CapData<VRef>, result: VRef?) throws -> (KRef, Message) {
        let ktarget = try mapV2K(vat, target)
        let kargs = try mapV2K(vat, methargs)
        var kresult: KRef?
        if let result {
            guard result.kind == .promise else { throw IllegalSyscall("syscall.send result \(result) is not a promise") }
            let kpid = try mapV2K(vat, result, requireNew: state.vats[vat]?.enablePipelining != true)
            guard var p = state.promises[kpid.number], p.state == .unresolved, p.decider == vat else {
                throw IllegalSyscall("syscall.send result \(result) is not an unresolved promise decided by \(vat)")
            }
            p.decider = nil
            setPromise(kpid.number, p)
            kresult = kpid
        }
        let message = Message(methargs: kargs, result: kresult)
        try incRefMessage(target: ktarget, message)
        push(.acceptance, .send(target: ktarget, message: message))
        return (ktarget, message)
    }

    /// §5.2: subscribe to an unresolved promise, or get a notify at once for a settled one.
    private func syscallSubscribe(_ vat: VatID, _ vpid: VRef) throws -> KRef {
        guard vpid.kind == .promise else { throw IllegalSyscall("syscall.subscribe but \(vpid) is not a promise") }
        let kpid = try mapV2K(vat, vpid)
        guard var p = state.promises[kpid.number] else { throw KernelBug("subscribed promise \(kpid) is missing") }
        if p.state == .unresolved {
            if !p.subscribers.contains(vat) {
                p.subscribers.append(vat)
                p.subscribers.sort()
                setPromise(kpid.number, p)
            }
        } else {
            try enqueueNotify(vat, kpid)
        }
        return kpid
    }

    /// §5.3: map everything, drop the vat's entries for the resolved promises, then settle
    /// each, which only the decider may do.
    private func syscallResolve(_ vat: VatID, _ resolutions: [VatResolution]) throws -> [KernelResolution] {
        var mapped: [(kpid: KRef, rejected: Bool, data: CapData<KRef>, vpid: VRef)] = []
        for r in resolutions {
            guard r.vpid.kind == .promise else { throw IllegalSyscall("syscall.resolve but \(r.vpid) is not a promise") }
            if !r.rejected, r.data.isSingleReference, r.data.slots[0].kind == .promise {
                throw IllegalSyscall("syscall.resolve of \(r.vpid): cannot resolve to a promise (\(r.data.slots[0]))")
            }
            let kpid = try mapV2K(vat, r.vpid)
            let data = try mapV2K(vat, r.data)
            mapped.append((kpid, r.rejected, data, r.vpid))
        }
        for m in mapped { try deleteCListEntry(vat, m.kpid) }
        for m in mapped {
            guard let p = state.promises[m.kpid.number] else { throw KernelBug("resolved promise \(m.kpid) is missing") }
            guard p.state == .unresolved else {
                throw IllegalSyscall("syscall.resolve but \(m.vpid) is already resolved")
            }
            guard p.decider == vat else {
                throw IllegalSyscall("syscall.resolve but \(vat) is not the decider of \(m.vpid) (decider: \(p.decider.map { "\($0)" } ?? "none"))")
            }
            try resolveKernelPromise(m.kpid, rejected: m.rejected, data: m.data)
        }
        return mapped.map { KernelResolution(kpid: $0.kpid, rejected: $0.rejected, data: $0.data) }
    }
}
