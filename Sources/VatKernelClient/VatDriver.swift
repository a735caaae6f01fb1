public import VatKernelAPI

/// Drives one vat: waits for its deliveries (`GET /vats/{vatID}/deliveries`), hands each to a
/// closure, posts the syscalls the closure returns as one batch (`POST .../syscalls`), and
/// acknowledges the delivery (`POST .../deliveries/ack`), in order, one at a time.
///
///     let driver = VatDriver(client: makeClient(url: url, token: created.token), vatID: created.vatID)
///     try await driver.run { delivery in
///         guard case .message(let m) = delivery else { return [] }
///         return [.resolve(...)]
///     }
public struct VatDriver: Sendable {
    public let client: Client
    public let vatID: String
    /// Seconds one request of `run` waits on an empty log (`GET ...deliveries?wait=`, a long poll).
    public var waitSeconds: Int
    /// Deliveries asked for per request.
    public var pageSize: Int

    public init(client: Client, vatID: String, waitSeconds: Int = 5, pageSize: Int = 100) {
        self.client = client
        self.vatID = vatID
        self.waitSeconds = waitSeconds
        self.pageSize = pageSize
    }

    /// What handling deliveries came to.
    public struct Progress: Sendable, Equatable {
        /// The seq of the last delivery handled and acknowledged.
        public var through: Int
        /// How many deliveries were handled.
        public var handled: Int
        /// True once a batch held `exit`: the vat is terminated and the driver stops.
        public var exited: Bool
    }

    /// Where a driver starts: after the deliveries the vat has already acknowledged.
    public func acknowledged() async throws -> Int {
        try await withServerErrors {
            try await client.getVat(path: .init(vatID: vatID)).ok.body.json.deliveriesAcknowledged
        }
    }

    /// Handles every delivery after `after` that the log holds now, then returns; with `wait`,
    /// an empty log is first waited on for up to that many seconds.
    public func drain(
        isolation: isolated (any Actor)? = #isolation, after: Int, wait: Int? = nil, handle: (Components.Schemas.Delivery) async throws -> [Components.Schemas.Syscall]
    ) async throws -> Progress {
        var progress = Progress(through: after, handled: 0, exited: false)
        var wait = wait
        while !progress.exited {
            let page = try await withServerErrors {
                try await client.getDeliveries(
                    path: .init(vatID: vatID), query: .init(after: progress.through, limit: pageSize, wait: wait)
                ).ok.body.json
            }
            wait = nil
            for delivery in page.deliveries where !progress.exited {
                try await handleOne(delivery, handle: handle, progress: &progress)
            }
            if page.next == nil { break }
        }
        return progress
    }

    /// Handles deliveries as they come until the vat exits or the task is cancelled, starting
    /// after `after` (default: what the vat already acknowledged).
    public func run(
        isolation: isolated (any Actor)? = #isolation, after: Int? = nil, handle: (Components.Schemas.Delivery) async throws -> [Components.Schemas.Syscall]
    ) async throws -> Progress {
        let start: Int
        if let after { start = after } else { start = try await acknowledged() }
        var total = Progress(through: start, handled: 0, exited: false)
        while !Task.isCancelled && !total.exited {
            let step = try await drain(after: total.through, wait: waitSeconds, handle: handle)
            total = Progress(through: step.through, handled: total.handled + step.handled, exited: step.exited)
        }
        return total
    }

    private func handleOne(
        isolation: isolated (any Actor)? = #isolation, _ delivery: Components.Schemas.Delivery,
        handle: (Components.Schemas.Delivery) async throws -> [Components.Schemas.Syscall],
        progress: inout Progress
    ) async throws {
        let syscalls = try await handle(delivery)
        if !syscalls.isEmpty {
            let answer = try await post(syscalls)
            if case .exited = answer { progress.exited = true }
        }
        progress.through = delivery.seq
        progress.handled += 1
        if progress.exited { return }  // a terminated vat has no log left to acknowledge
        _ = try await withServerErrors {
            try await client.acknowledgeDeliveries(
                path: .init(vatID: vatID), body: .json(.init(through: delivery.seq))
            ).ok
        }
    }

    /// Posts one batch of this vat's syscalls and returns the server's answer.
    public func post(_ syscalls: [Components.Schemas.Syscall]) async throws -> Components.Schemas.SyscallBatchResult {
        try await withServerErrors {
            try await client.postSyscalls(path: .init(vatID: vatID), body: .json(.init(syscalls: syscalls))).ok.body.json
        }
    }
}

extension Components.Schemas.Delivery {
    /// The delivery's place in its vat's log, whatever its type.
    public var seq: Int {
        switch self {
        case .message(let d): d.seq
        case .notify(let d): d.seq
        case .dropExports(let d): d.seq
        case .retireExports(let d): d.seq
        case .retireImports(let d): d.seq
        case .abandonImports(let d): d.seq
        case .bringOutYourDead(let d): d.seq
        case .startVat(let d): d.seq
        }
    }
}
