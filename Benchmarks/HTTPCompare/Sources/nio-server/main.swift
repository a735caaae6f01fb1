// Bare SwiftNIO (NIOHTTP1) serving vatkernel's GET /kernel and POST /vats/{vat}/syscalls with
// fixed bodies, through one minimal channel handler.
//
// Default configuration: `MultiThreadedEventLoopGroup.singleton`, one event loop per core
// (2 threads on a 2-core machine); the standard HTTP/1 server pipeline; TCP_NODELAY as in
// vatkernel. Bound to 127.0.0.1.
import Fixtures
import NIOCore
import NIOHTTP1
import NIOPosix

final class FixedJSONHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private static let kernelBody = ByteBuffer(bytes: Fixtures.kernelSummary)
    private static let syscallsBody = ByteBuffer(bytes: Fixtures.syscallBatchAnswer)
    private static let notFoundBody = ByteBuffer(string: #"{"error":{"code":"not-found","message":"no such route"}}"#)

    private var head: HTTPRequestHead?
    private var bodyBytes = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            bodyBytes = 0
        case .body(let chunk):
            bodyBytes += chunk.readableBytes  // read and dropped: the answer is fixed
        case .end:
            guard let head else { return }
            self.head = nil
            let status: HTTPResponseStatus
            let body: ByteBuffer
            if head.method == .GET && head.uri == "/kernel" {
                (status, body) = (.ok, Self.kernelBody)
            } else if head.method == .POST && head.uri.hasPrefix("/vats/") && head.uri.hasSuffix("/syscalls") {
                (status, body) = (.ok, Self.syscallsBody)
            } else {
                (status, body) = (.notFound, Self.notFoundBody)
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: Fixtures.contentType)
            headers.add(name: "Content-Length", value: String(body.readableBytes))
            let keepAlive = head.isKeepAlive
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !keepAlive {
                let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
                done.whenComplete { _ in loopBound.value.close(promise: nil) }
            }
        }
    }
}

let port = Fixtures.port(from: CommandLine.arguments)
let group = MultiThreadedEventLoopGroup.singleton
let bootstrap = ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 256)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline()
            try channel.pipeline.syncOperations.addHandler(FixedJSONHandler())
        }
    }
let channel = try await bootstrap.bind(host: "127.0.0.1", port: port).get()
Fixtures.announce("nio-server: listening on http://127.0.0.1:\(port) (\(System.coreCount) event loops)")
try await channel.closeFuture.get()
