import Testing
@testable import HTTPServer

@Suite("HTTPRequest")
struct HTTPRequestTests {
    @Test("the target initializer derives path and query as the server does")
    func derivedFromTarget() {
        let request = HTTPRequest(method: "GET", target: "/vats/v%201/deliveries?after=3&limit=a+b")
        #expect(request.path == "/vats/v 1/deliveries")
        #expect(request.query == ["after": "3", "limit": "a b"])
        #expect(request.version == .http1_1)
        #expect(request.headers.isEmpty)
        #expect(request.body.isEmpty)
    }

    @Test("query items keep the order and the repeats that query folds away")
    func queryItems() {
        let request = HTTPRequest(method: "GET", target: "/objects?owner=v1&&own%72=a+b&owner=none&flag")
        #expect(request.query == ["owner": "none", "ownr": "a b", "flag": ""])
        let items = request.queryItems.map { "\($0.name)=\($0.value)" }
        #expect(items == ["owner=v1", "ownr=a b", "owner=none", "flag="])
        #expect(HTTPRequest(method: "GET", target: "/objects").queryItems.isEmpty)
        #expect(HTTPRequest(method: "GET", target: "/objects?").queryItems.isEmpty)
        #expect(HTTPRequest(method: "GET", target: "http://h:1/x?a=1&a=2").queryItems.map(\.value) == ["1", "2"])
    }

    @Test("a target the server would refuse is kept as the path, with no query")
    func invalidTarget() {
        let request = HTTPRequest(method: "GET", target: "/bad%zz?x=1")
        #expect(request.path == "/bad%zz?x=1")
        #expect(request.query == [:])
    }

    @Test("path segments are cut at the raw slashes, then each is decoded: %2F stays in its segment")
    func pathSegments() {
        #expect(HTTPRequest(method: "GET", target: "/vats/v1%2Fclist").pathSegments == ["vats", "v1/clist"])
        #expect(HTTPRequest(method: "GET", target: "/vats/v1%2Fclist").path == "/vats/v1/clist")
        #expect(HTTPRequest(method: "GET", target: "/vats%2fv1/clist?x=%2F").pathSegments == ["vats/v1", "clist"])
        #expect(HTTPRequest(method: "GET", target: "/a%20b//c/").pathSegments == ["a b", "", "c", ""])
        #expect(HTTPRequest(method: "GET", target: "/").pathSegments == [""])
        #expect(HTTPRequest(method: "GET", target: "http://h:1/x/y%2Fz?q").pathSegments == ["x", "y/z"])
        #expect(HTTPRequest(method: "GET", target: "http://h").pathSegments == [""])
        #expect(HTTPRequest(method: "OPTIONS", target: "*").pathSegments == nil)
        #expect(HTTPRequest(method: "GET", target: "/a/%FF").pathSegments == nil)
        #expect(HTTPRequest(method: "GET", target: "/a/%2").pathSegments == nil)
    }

    @Test("versions print as on the wire")
    func versions() {
        #expect(HTTPVersion.http1_0.description == "HTTP/1.0")
        #expect(HTTPVersion.http1_1.description == "HTTP/1.1")
    }
}
