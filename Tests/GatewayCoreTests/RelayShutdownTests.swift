// Issue 12, acceptance 2 with the relay at work: gatewayd stops within 5 s of SIGTERM while it
// uploads to a slow hub and holds its inbox long poll open there.
import Foundation
import TestSupport
import XCTest
@testable import GatewayCore

extension RelayEndToEndTests {
    func testBoxStopsWithinFiveSecondsDuringASlowUploadAndItsLongPoll() async throws {
        // 200 kB/s: the 12 MB document would take a minute to reach the hub.
        let box = try await startHubAndBox(throughProxy: ["--rate", "200000"])
        let large = try await submit(box, randomBytes(12_000_000), number: "500", priority: 0)
        try await waitUntil(seconds: 30) { [self] in state(box, large) == .sending }

        guard await box.terminate(exitingWithin: 5, for: self) else { return }
        XCTAssertFalse(FileManager.default.fileExists(atPath: box.socket))
    }
}
