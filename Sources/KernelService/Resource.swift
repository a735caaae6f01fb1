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

    /// The methods the resource answers, in the order the `Allow` header lists them.
    var methods: [String] {
        switch self {
        case .healthz, .version, .readyz, .metrics, .kernel, .kernelRunQueue, .kernelAcceptanceQueue, .kernelGCActions, .kernelAudit,
             .vat, .vatCList, .vatDeliveries, .objects, .object, .promises, .promise, .events, .eventsStream, .vatDeliveriesStream:
            return ["GET"]
        case .kernelStep, .kernelRun, .kernelGCReconsider, .vatSyscalls, .vatDeliveriesAck, .vatExports, .vatBringOutYourDead, .vatUpgrade, .vatTerminate, .messages:
            return ["POST"]
        case .kernelRunMode: return ["GET", "PUT"]
        case .vats: return ["GET", "POST"]
        case .objectPin: return ["POST", "DELETE"]
        case .promiseHold, .vatTerminationHold: return ["DELETE"]
        }
    }

    /// The query parameters the resource takes (for GET, the only method that takes any), in
    /// the order openapi.yaml lists them. Any other name, or one given twice, is a 400: a typo
    /// (`?ownr=none`) is refused like an unknown body field instead of being ignored.
    var queryParameters: [String] {
        switch self {
        case .kernelRunQueue, .kernelAcceptanceQueue, .vats, .vatCList: return ["after", "limit"]
        case .vatDeliveries: return ["after", "limit", "wait"]
        case .vatDeliveriesStream: return ["after"]
        case .eventsStream: return ["after", "type", "vat", "kref"]
        case .objects: return ["owner", "after", "limit"]
        case .promises: return ["decider", "state", "after", "limit"]
        case .events: return ["after", "limit", "type", "vat", "kref", "wait"]
        case .healthz, .version, .readyz, .metrics, .kernel, .kernelStep, .kernelRun, .kernelRunMode, .kernelGCActions, .kernelAudit,
             .vat, .vatSyscalls, .vatExports, .vatBringOutYourDead, .vatUpgrade, .vatTerminate,
             .vatTerminationHold, .vatDeliveriesAck, .kernelGCReconsider, .messages, .object, .objectPin, .promise, .promiseHold:
            return []
        }
    }

    /// The path pattern, as openapi.yaml writes it: the `route` label of the HTTP metrics.
    var template: String {
        switch self {
        case .healthz: return "/healthz"
        case .version: return "/version"
        case .readyz: return "/readyz"
        case .metrics: return "/metrics"
        case .kernel: return "/kernel"
        case .kernelStep: return "/kernel/step"
        case .kernelRun: return "/kernel/run"
        case .kernelRunMode: return "/kernel/run-mode"
        case .kernelRunQueue: return "/kernel/run-queue"
        case .kernelAcceptanceQueue: return "/kernel/acceptance-queue"
        case .kernelGCActions: return "/kernel/gc-actions"
        case .kernelAudit: return "/kernel/audit"
        case .vats: return "/vats"
        case .vat: return "/vats/{vatID}"
        case .vatCList: return "/vats/{vatID}/clist"
        case .vatDeliveries: return "/vats/{vatID}/deliveries"
        case .vatSyscalls: return "/vats/{vatID}/syscalls"
        case .vatExports: return "/vats/{vatID}/exports"
        case .vatBringOutYourDead: return "/vats/{vatID}/bring-out-your-dead"
        case .vatUpgrade: return "/vats/{vatID}/upgrade"
        case .vatTerminate: return "/vats/{vatID}/terminate"
        case .vatDeliveriesAck: return "/vats/{vatID}/deliveries/ack"
        case .vatTerminationHold: return "/vats/{vatID}/termination/hold"
        case .kernelGCReconsider: return "/kernel/gc/reconsider"
        case .messages: return "/messages"
        case .objects: return "/objects"
        case .object: return "/objects/{kref}"
        case .objectPin: return "/objects/{kref}/pin"
        case .promises: return "/promises"
        case .events: return "/events"
        case .eventsStream: return "/events/stream"
        case .vatDeliveriesStream: return "/vats/{vatID}/deliveries/stream"
        case .promise: return "/promises/{kpid}"
        case .promiseHold: return "/promises/{kpid}/hold"
        }
    }

    /// Probes and identity, open to anyone who can reach the port, as `/healthz` always was.
    var isPublic: Bool {
        switch self {
        case .healthz, .version, .readyz: return true
        default: return false
        }
    }

    /// The vat whose own token may authorize the request (its syscalls and its delivery log),
    /// as written in the path. Every other resource needs the admin token, when there is one.
    var vatScope: String? {
        switch self {
        case .vatSyscalls(let id), .vatDeliveries(let id), .vatDeliveriesAck(let id), .vatDeliveriesStream(let id): return id
        default: return nil
        }
    }
}
