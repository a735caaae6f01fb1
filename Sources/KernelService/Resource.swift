/// The resources of the API (API.md), matched from a request path.
///
/// Matching is by shape only (`/vats/{vatID}/clist`); the parameters are checked afterwards,
/// so that a wrong method on a known path is a 405 whatever the parameter says.
enum Resource: Equatable {
    case healthz, version, readyz, metrics
    case kernel, kernelStep, kernelRun, kernelRunMode, kernelRunQueue, kernelAcceptanceQueue, kernelGCActions, kernelAudit
    case vats
    case vat(String)
    case vatCList(String)
    case vatDeliveries(String)
    case vatSyscalls(String)
    case vatExports(String)
    case vatBringOutYourDead(String)
    case vatUpgrade(String)
    case vatTerminate(String)
    case vatTerminationHold(String)
    case vatDeliveriesAck(String)
    case kernelGCReconsider
    case messages
    case objects
    case object(String)
    case objectPin(String)
    case promises
    case promise(String)
    case promiseHold(String)
    /// `GET /events`: the event log.
    case events
    /// `GET /events/stream`: the log as Server-Sent Events.
    case eventsStream
    /// `GET /vats/{vatID}/deliveries/stream`: a vat's deliveries as Server-Sent Events.
    case vatDeliveriesStream(String)

    /// The resource at `path` (not percent-encoded), or nil if there is none.
    init?(path: String) {
        guard path.first == "/" else { return nil }
        self.init(segments: path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map(String.init))
    }

    /// The resource at the path whose segments, each already decoded on its own, are `s`
    /// (`HTTPRequest.pathSegments`): a decoded `/` is part of its segment, so `v1%2Fclist` is a
    /// (malformed) vat ID, never the c-list. No trailing slash, no empty segment.
    init?(segments s: [String]) {
        guard !s.contains(where: \.isEmpty) else { return nil }
        switch s.count {
        case 1:
            switch s[0] {
            case "healthz": self = .healthz
            case "version": self = .version
            case "readyz": self = .readyz
            case "metrics": self = .metrics
            case "kernel": self = .kernel
            case "vats": self = .vats
            case "messages": self = .messages
            case "objects": self = .objects
            case "promises": self = .promises
            case "events": self = .events
            default: return nil
            }
        case 2:
            switch (s[0], s[1]) {
            case ("kernel", "step"): self = .kernelStep
            case ("kernel", "run"): self = .kernelRun
            case ("kernel", "run-mode"): self = .kernelRunMode
            case ("kernel", "run-queue"): self = .kernelRunQueue
            case ("kernel", "acceptance-queue"): self = .kernelAcceptanceQueue
            case ("kernel", "gc-actions"): self = .kernelGCActions
            case ("kernel", "audit"): self = .kernelAudit
            case ("events", "stream"): self = .eventsStream
            case ("vats", let id): self = .vat(id)
            case ("objects", let k): self = .object(k)
            case ("promises", let k): self = .promise(k)
            default: return nil
            }
        case 3:
            switch (s[0], s[2]) {
            case ("vats", "clist"): self = .vatCList(s[1])
            case ("vats", "deliveries"): self = .vatDeliveries(s[1])
            case ("vats", "syscalls"): self = .vatSyscalls(s[1])
            case ("vats", "exports"): self = .vatExports(s[1])
            case ("vats", "bring-out-your-dead"): self = .vatBringOutYourDead(s[1])
            case ("vats", "upgrade"): self = .vatUpgrade(s[1])
            case ("vats", "terminate"): self = .vatTerminate(s[1])
            case ("objects", "pin"): self = .objectPin(s[1])
            case ("promises", "hold"): self = .promiseHold(s[1])
            case ("kernel", "reconsider") where s[1] == "gc": self = .kernelGCReconsider
            default: return nil
            }
        case 4:
            switch (s[0], s[2], s[3]) {
            case ("vats", "termination", "hold"): self = .vatTerminationHold(s[1])
            case ("vats", "deliveries", "ack"): self = .vatDeliveriesAck(s[1])
            case ("vats", "deliveries", "stream"): self = .vatDeliveriesStream(s[1])
            default: return nil
            }
        default:
            return nil
        }
    }

    /// Everything the service knows of a resource before parsing a request to it.
    struct Spec {
        /// The path pattern, as openapi.yaml writes it: the `route` label of the HTTP metrics.
        let template: String
        /// The methods it answers, in the order the `Allow` header lists them.
        let methods: [String]
        /// The query parameters it takes (for GET, the only method that takes any), in the
        /// order openapi.yaml lists them. Any other name, or one given twice, is a 400: a typo
        /// (`?ownr=none`) is refused like an unknown body field instead of being ignored.
        var query: [String] = []
        /// Who may ask: anyone who can reach the port, the admin, or the vat the path names
        /// (its syscalls and its delivery log) as well as the admin.
        var access: Access = .admin
    }

    enum Access {
        /// Probes and identity, open to anyone who can reach the port, as `/healthz` always was.
        case open
        case admin
        case vat(String)
    }

    private static let get = ["GET"], post = ["POST"]
    private static let page = ["after", "limit"]

    /// One line per resource: its template, methods, query parameters and access. Parsing a
    /// request to it is its arm in `Operation.parse`; performing it, its arm in `KernelThread.answer`.
    var spec: Spec {
        switch self {
        case .healthz: return Spec(template: "/healthz", methods: Self.get, access: .open)
        case .version: return Spec(template: "/version", methods: Self.get, access: .open)
        case .readyz: return Spec(template: "/readyz", methods: Self.get, access: .open)
        case .metrics: return Spec(template: "/metrics", methods: Self.get)
        case .kernel: return Spec(template: "/kernel", methods: Self.get)
        case .kernelStep: return Spec(template: "/kernel/step", methods: Self.post)
        case .kernelRun: return Spec(template: "/kernel/run", methods: Self.post)
        case .kernelRunMode: return Spec(template: "/kernel/run-mode", methods: ["GET", "PUT"])
        case .kernelRunQueue: return Spec(template: "/kernel/run-queue", methods: Self.get, query: Self.page)
        case .kernelAcceptanceQueue: return Spec(template: "/kernel/acceptance-queue", methods: Self.get, query: Self.page)
        case .kernelGCActions: return Spec(template: "/kernel/gc-actions", methods: Self.get, query: Self.page)
        case .kernelAudit: return Spec(template: "/kernel/audit", methods: Self.get)
        case .kernelGCReconsider: return Spec(template: "/kernel/gc/reconsider", methods: Self.post)
        case .vats: return Spec(template: "/vats", methods: ["GET", "POST"], query: Self.page)
        case .vat: return Spec(template: "/vats/{vatID}", methods: Self.get)
        case .vatCList: return Spec(template: "/vats/{vatID}/clist", methods: Self.get, query: Self.page)
        case .vatDeliveries(let id):
            return Spec(template: "/vats/{vatID}/deliveries", methods: Self.get, query: ["after", "limit", "wait"], access: .vat(id))
        case .vatDeliveriesStream(let id):
            return Spec(template: "/vats/{vatID}/deliveries/stream", methods: Self.get, query: ["after"], access: .vat(id))
        case .vatDeliveriesAck(let id): return Spec(template: "/vats/{vatID}/deliveries/ack", methods: Self.post, access: .vat(id))
        case .vatSyscalls(let id): return Spec(template: "/vats/{vatID}/syscalls", methods: Self.post, access: .vat(id))
        case .vatExports: return Spec(template: "/vats/{vatID}/exports", methods: Self.post)
        case .vatBringOutYourDead: return Spec(template: "/vats/{vatID}/bring-out-your-dead", methods: Self.post)
        case .vatUpgrade: return Spec(template: "/vats/{vatID}/upgrade", methods: Self.post)
        case .vatTerminate: return Spec(template: "/vats/{vatID}/terminate", methods: Self.post)
        case .vatTerminationHold: return Spec(template: "/vats/{vatID}/termination/hold", methods: ["DELETE"])
        case .messages: return Spec(template: "/messages", methods: Self.post)
        case .objects: return Spec(template: "/objects", methods: Self.get, query: ["owner", "after", "limit"])
        case .object: return Spec(template: "/objects/{kref}", methods: Self.get)
        case .objectPin: return Spec(template: "/objects/{kref}/pin", methods: ["POST", "DELETE"])
        case .promises: return Spec(template: "/promises", methods: Self.get, query: ["decider", "state", "after", "limit"])
        case .promise: return Spec(template: "/promises/{kpid}", methods: Self.get)
        case .promiseHold: return Spec(template: "/promises/{kpid}/hold", methods: ["DELETE"])
        case .events: return Spec(template: "/events", methods: Self.get, query: ["after", "limit", "type", "vat", "kref", "wait"])
        case .eventsStream: return Spec(template: "/events/stream", methods: Self.get, query: ["after", "type", "vat", "kref"])
        }
    }

    /// The path pattern, as openapi.yaml writes it: the `route` label of the HTTP metrics.
    var template: String { spec.template }

    /// Open to anyone who can reach the port.
    var isPublic: Bool {
        if case .open = spec.access { return true }
        return false
    }

    /// The vat whose own token may authorize the request, as written in the path. Every other
    /// resource needs the admin token, when there is one.
    var vatScope: String? {
        if case .vat(let id) = spec.access { return id }
        return nil
    }
}
