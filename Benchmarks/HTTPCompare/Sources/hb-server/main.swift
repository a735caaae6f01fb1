// Hummingbird 2 serving vatkernel's GET /kernel and POST /vats/{vat}/syscalls with fixed bodies.
//
// Default configuration: `Application(router:configuration:)` with its default
// `eventLoopGroupProvider: .singleton`, i.e. `MultiThreadedEventLoopGroup.singleton`, one
// event loop per core (2 threads on a 2-core machine). Only the address is set: 127.0.0.1.
import Fixtures
import Hummingbird

let port = Fixtures.port(from: CommandLine.arguments)
let kernelBody = ByteBuffer(bytes: Fixtures.kernelSummary)
let syscallsBody = ByteBuffer(bytes: Fixtures.syscallBatchAnswer)
let jsonHeaders: HTTPFields = [.contentType: Fixtures.contentType]

let router = Router()
router.get("kernel") { _, _ -> Response in
    Response(status: .ok, headers: jsonHeaders, body: ResponseBody(byteBuffer: kernelBody))
}
router.post("vats/:vat/syscalls") { request, _ -> Response in
    // Read the whole body, as vatkernel does before it parses the batch.
    _ = try await request.body.collect(upTo: Fixtures.maxBody)
    return Response(status: .ok, headers: jsonHeaders, body: ResponseBody(byteBuffer: syscallsBody))
}

let app = Application(
    router: router,
    configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port)))
Fixtures.announce("hb-server: listening on http://127.0.0.1:\(port)")
try await app.runService()
