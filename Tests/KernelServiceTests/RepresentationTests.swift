import Testing
import TestSupport
import VatKernel
@testable import KernelService

/// The values the API and the store both write come from the core's one encoder: the answer's
/// bytes are the store's bytes, except that an answer writes an integral double as digits.
struct RepresentationTests {
    @Test func capDataIsTheStoresBytes() throws {
        let d = CapData(body: .object(["b": .array([.int(1), .double(0.5), .string("é")]), "a": .null]), slots: [k("ko1"), k("kp2")])
        let stored = try JSONWriter.bytes { try $0.capData(d) }
        #expect(Representation.capData(d).bytes == stored)
        #expect(String(decoding: stored, as: UTF8.self) == #"{"body":{"a":null,"b":[1,0.5,"é"]},"slots":["ko1","kp2"]}"#)
    }

    @Test func anAnswerWritesAnIntegralDoubleAsDigitsAndTheStoreKeepsIt() throws {
        let d = CapData<KRef>(body: .array([.double(2), .double(-0.0), .double(1e20)]))
        #expect(Representation.capData(d).description == #"{"body":[2,-0.0,1e+20],"slots":[]}"#)
        #expect(String(decoding: try JSONWriter.bytes { try $0.capData(d) }, as: UTF8.self) == #"{"body":[2.0,-0.0,1e+20],"slots":[]}"#)
    }

    @Test func aMessageAndASyscallResultAreTheStoresBytes() throws {
        let m = Message(methargs: methargs("go", [k("ko3")]), result: k("kp4"))
        #expect(Representation.message(m).bytes == (try JSONWriter.bytes { try $0.message(m) }))
        #expect(JSON.array([Representation.syscallResult(.ok), Representation.syscallResult(.value(nil)),
                            Representation.syscallResult(.value("x"))]).description == #"[null,null,"x"]"#)
        #expect(String(decoding: JSONWriter.bytes { $0.syscallTraceResult(.ok(.value("x"))) }, as: UTF8.self) == #"["ok","x"]"#)
    }

    @Test func aQueuedEventIsListedWithItsIDAndTypeFirst() {
        let send = QueuedEvent(id: 7, event: .send(target: k("ko1"), message: Message(methargs: methargs("m", [KRef]()), result: nil)))
        #expect(Representation.event(send).description
            == #"{"id":7,"type":"send","target":"ko1","methargs":{"body":["m",[]],"slots":[]},"result":null}"#)
        let notify = QueuedEvent(id: 8, event: .notify(vat: VatID(2), kpid: k("kp5")))
        #expect(Representation.event(notify).description == #"{"id":8,"type":"notify","vatID":"v2","kpid":"kp5"}"#)
    }
}
