import Testing
@testable import KernelService

/// The framing of `GET /events/stream` and `GET /vats/{vatID}/deliveries/stream`.
@Suite struct ServerSentEventsTests {
    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func anEventIsItsIDThenOneDataLinePerLineThenABlankLine() {
        #expect(text(ServerSentEvents.event(id: 42, data: Array(#"{"seq":42}"#.utf8))) == "id: 42\ndata: {\"seq\":42}\n\n")
        // JSON from the writer has no raw line ends, but any data is framed safely: LF, CR and
        // CRLF each end a line, and an empty line stays an empty data line.
        #expect(text(ServerSentEvents.event(id: 1, data: Array("a\nb\r\nc\rd\n\ne".utf8)))
                == "id: 1\ndata: a\ndata: b\ndata: c\ndata: d\ndata: \ndata: e\n\n")
        #expect(text(ServerSentEvents.event(id: 7, data: [])) == "id: 7\ndata: \n\n")
        #expect(text(ServerSentEvents.event(id: 2, data: Array("x\n".utf8))) == "id: 2\ndata: x\ndata: \n\n")
    }

    @Test func theHeartbeatIsACommentClientsIgnore() {
        #expect(text(ServerSentEvents.comment("heartbeat")) == ": heartbeat\n\n")
    }
}
