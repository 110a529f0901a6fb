import XCTest

@testable import GatewayServer

final class AdminAuthorizationTests: XCTestCase {
    func testBearerTokenMustMatchExactly() {
        let auth = AdminAuthorization(token: "s3cret-token")
        XCTAssertTrue(auth.requiresToken)
        XCTAssertTrue(auth.allows(authorizationHeader: "Bearer s3cret-token"))
        XCTAssertTrue(auth.allows(authorizationHeader: "bearer s3cret-token"))
        XCTAssertTrue(auth.allows(authorizationHeader: "BEARER   s3cret-token "))
        XCTAssertFalse(auth.allows(authorizationHeader: nil))
        XCTAssertFalse(auth.allows(authorizationHeader: ""))
        XCTAssertFalse(auth.allows(authorizationHeader: "Bearer"))
        XCTAssertFalse(auth.allows(authorizationHeader: "Bearer "))
        XCTAssertFalse(auth.allows(authorizationHeader: "Bearer s3cret-toke"))
        XCTAssertFalse(auth.allows(authorizationHeader: "Bearer s3cret-token2"))
        XCTAssertFalse(auth.allows(authorizationHeader: "Bearer S3cret-token"))
        XCTAssertFalse(auth.allows(authorizationHeader: "Basic s3cret-token"))
        XCTAssertFalse(auth.allows(authorizationHeader: "s3cret-token"))
    }

    func testNoTokenConfiguredAllowsEveryone() {
        let auth = AdminAuthorization(token: nil)
        XCTAssertFalse(auth.requiresToken)
        XCTAssertTrue(auth.allows(authorizationHeader: nil))
    }

    func testConstantTimeEquality() {
        XCTAssertTrue(AdminAuthorization.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(AdminAuthorization.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(AdminAuthorization.constantTimeEquals([1, 2, 3], [1, 2]))
        XCTAssertFalse(AdminAuthorization.constantTimeEquals([], [0]))
        // Lengths that differ by a multiple of 256 must not look equal.
        XCTAssertFalse(
            AdminAuthorization.constantTimeEquals([UInt8](repeating: 0, count: 256), []))
        XCTAssertTrue(AdminAuthorization.constantTimeEquals([], []))
    }
}
