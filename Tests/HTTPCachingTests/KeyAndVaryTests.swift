import XCTest

@testable import HTTPCaching

final class KeyAndVaryTests: XCTestCase {
    func testKeyFromHostPathAndQueryPolicy() {
        XCTAssertEqual(
            CacheKey.make(host: "CDN.Example.test", target: "/a/b?x=1", query: .all).text, "cdn.example.test/a/b?x=1")
        XCTAssertEqual(CacheKey.make(host: "h", target: "/a/b?x=1", query: .ignore).text, "h/a/b")
        XCTAssertEqual(
            CacheKey.make(host: "h", target: "/p?utm=1&v=2&id=7&v=1", query: .only(["id", "v"])).text,
            "h/p?id=7&v=2&v=1")
        XCTAssertEqual(CacheKey.make(host: "h", target: "/p?utm=1", query: .only(["id"])).text, "h/p")
        XCTAssertEqual(CacheKey.make(host: nil, target: "/p", query: .all).text, "/p")
        XCTAssertEqual(CacheKey.make(host: "h", target: "/p?b=1&a=2", query: .all).text, "h/p?b=1&a=2")
        XCTAssertEqual(CacheKey.make(host: "h", target: "/a?x", query: .all).hostAndPath, "h/a")
    }

    func testVaryMatchingNormalisesWhitespaceAndLines() {
        let stored = VarySelector(vary: ["Accept-Language, X-Tenant", "accept-language"]) { name in
            name == "accept-language" ? ["en,  fr"] : []
        }
        XCTAssertEqual(stored.names, ["accept-language", "x-tenant"])
        XCTAssertTrue(stored.matches { $0 == "accept-language" ? ["en", "fr"] : [] })
        XCTAssertTrue(stored.matches { $0 == "accept-language" ? [" en ,fr "] : [] })
        XCTAssertFalse(stored.matches { $0 == "accept-language" ? ["fr, en"] : [] })
        XCTAssertFalse(stored.matches { $0 == "accept-language" ? ["en,fr"] : ["acme"] })
        XCTAssertTrue(VarySelector.none.matches { _ in ["anything"] })
    }

    func testVaryOnAcceptEncodingSelectsByWhatTheClientCanTake() {
        let stored = VarySelector(vary: ["Accept-Encoding"]) { _ in ["gzip, deflate, br"] }
        XCTAssertTrue(stored.matches { _ in ["br;q=0.9, gzip"] })
        XCTAssertFalse(stored.matches { _ in ["gzip"] })
        XCTAssertFalse(stored.matches { _ in [] })
    }

    func testAcceptEncodingNegotiation() {
        XCTAssertEqual(AcceptEncoding(["gzip, br"]).preferred(among: [.br, .gzip]), .br)
        XCTAssertEqual(AcceptEncoding(["gzip;q=1.0, br;q=0.5"]).preferred(among: [.br, .gzip]), .gzip)
        XCTAssertEqual(AcceptEncoding(["br"]).preferred(among: [.gzip]), nil)
        XCTAssertEqual(AcceptEncoding(["*"]).preferred(among: [.gzip]), .gzip)
        XCTAssertEqual(AcceptEncoding(["*;q=0, gzip"]).preferred(among: [.br, .gzip]), .gzip)
        XCTAssertEqual(AcceptEncoding(["br;q=0, gzip;q=0"]).preferred(among: [.br, .gzip]), nil)
        XCTAssertEqual(AcceptEncoding(["gzip;q=2"]).preferred(among: [.gzip]), nil)  // invalid q fails safe
        XCTAssertEqual(AcceptEncoding([]).preferred(among: [.br, .gzip]), nil)
        XCTAssertTrue(AcceptEncoding([]).acceptsIdentity)
        XCTAssertFalse(AcceptEncoding(["identity;q=0"]).acceptsIdentity)
        XCTAssertFalse(AcceptEncoding(["*;q=0"]).acceptsIdentity)
        XCTAssertTrue(AcceptEncoding(["*;q=0, identity"]).acceptsIdentity)
        XCTAssertEqual(AcceptEncoding.parseQuality("0.125"), 125)
        XCTAssertNil(AcceptEncoding.parseQuality("0.1234"))
        XCTAssertNil(AcceptEncoding.parseQuality("1.5"))
    }
}
