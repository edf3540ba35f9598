import Foundation
import GatewayCore
import TestSupport
import XCTest

/// Issue 16: `upstream.ca_file` may hold two CAs, so the hub's CA can be rotated without breaking
/// boxes. The box's file holds another CA first and the hub's CA second, the way it looks while
/// the province moves from its old CA to its new one; the box trusts the hub and delivers.
extension RelayEndToEndTests {
    func testBoxTrustsAHubWhoseCertificateComesFromTheSecondCAInItsFile() async throws {
        let box = try await startHubAndBox(caRotation: true)
        let id = try await submit(box, randomBytes(10_000), number: "9")
        try await waitUntil(seconds: 30) { [self] in state(box, id) == .delivered }
        XCTAssertEqual(try handedOff().count, 1, "the document reached the hub")
        XCTAssertNil(relayStatus(box)?.lastError)
    }
}
