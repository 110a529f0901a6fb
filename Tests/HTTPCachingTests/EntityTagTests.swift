import XCTest

@testable import HTTPCaching

final class EntityTagTests: XCTestCase {
    /// RFC 9110 8.8.3.2's comparison table.
    func testWeakAndStrongComparison() throws {
        let w1 = try XCTUnwrap(EntityTag(parsing: #"W/"1""#))
        let w2 = try XCTUnwrap(EntityTag(parsing: #"W/"2""#))
        let s1 = try XCTUnwrap(EntityTag(parsing: #""1""#))
        XCTAssertFalse(w1.strongMatches(w1))
        XCTAssertTrue(w1.weakMatches(w1))
        XCTAssertFalse(w1.strongMatches(w2))
        XCTAssertFalse(w1.weakMatches(w2))
        XCTAssertFalse(w1.strongMatches(s1))
        XCTAssertTrue(w1.weakMatches(s1))
        XCTAssertTrue(s1.strongMatches(s1))
        XCTAssertTrue(s1.weakMatches(s1))
        XCTAssertEqual(w1.headerValue, #"W/"1""#)
    }

    func testListsAndStar() {
        XCTAssertEqual(EntityTagList.parse(" * "), .any)
        XCTAssertEqual(
            EntityTagList.parse([#""a", W/"b""#, #""c""#]),
            .tags([
                EntityTag(opaque: "a", isWeak: false), EntityTag(opaque: "b", isWeak: true),
                EntityTag(opaque: "c", isWeak: false),
            ]))
        XCTAssertEqual(EntityTagList.parse(["*", #""a""#]), .malformed)
        for bad in [#"a"#, #""a"#, #""a b""#, #"w/"a""#, #""a" "b""#, "*, *"] {
            XCTAssertEqual(EntityTagList.parse(bad), .malformed, bad)
        }
        XCTAssertNil(EntityTag(parsing: #""a", "b""#))
    }

    func testIfNoneMatchUsesWeakComparison() {
        let current = EntityTag(opaque: "v1", isWeak: false)
        XCTAssertTrue(EntityTagList.parse(#"W/"v1""#).matchesForNoneMatch(current))
        XCTAssertTrue(EntityTagList.parse(#""x", "v1""#).matchesForNoneMatch(current))
        XCTAssertFalse(EntityTagList.parse(#""v2""#).matchesForNoneMatch(current))
        XCTAssertTrue(EntityTagList.any.matchesForNoneMatch(current))
        XCTAssertFalse(EntityTagList.any.matchesForNoneMatch(nil))
        XCTAssertFalse(EntityTagList.malformed.matchesForNoneMatch(current))
    }
}
