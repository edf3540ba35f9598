import DocumentModel
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import XCTest
@testable import GatewayCore

/// Enrolment at start failed because the hub could not be reached: the box tries again in the
/// background with backoff and, once enrolled, ends the daemon gracefully so systemd starts it
/// with the relay. A refusal the hub will repeat is not retried. Run in a real ServiceGroup with
/// the daemon's termination behaviour; the sleeps are recorded, not waited.
final class UnitEnrolmentRetryTests: XCTestCase {
    let unreachable = EnrolmentError(.hubUnreachable, vi: "không kết nối được", en: "cannot reach the hub")
    let refused = EnrolmentError(.tokenRefused, vi: "mã bị từ chối", en: "token refused")

    func group(_ retry: EnrolmentRetry) -> ServiceGroup {
        ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: retry, failureTerminationBehavior: .gracefullyShutdownGroup)], logger: Logger(label: "test")))
    }

    func testTheLinkComingBackEnrolsAndEndsTheDaemonToRestart() async throws {
        let attempts = Mutex(0)
        let delays = Mutex<[Duration]>([])
        let unreachable = unreachable
        let retry = EnrolmentRetry(enroll: { () async throws(EnrolmentError) in
            let attempt = attempts.withLock { $0 += 1; return $0 }
            if attempt < 4 { throw unreachable }
        }, schedule: RetrySchedule(base: .seconds(30), cap: .seconds(3600)), sleep: { delay in delays.withLock { $0.append(delay) } },
           logger: Logger(label: "test"))
        do {
            try await group(retry).run()
            XCTFail("the group should end with Enrolled")
        } catch is EnrolmentRetry.Enrolled {}
        XCTAssertEqual(attempts.withLock { $0 }, 4, "three failures, then enrolled")
        // Full jitter under a doubling ceiling: 30 s, 60 s, 120 s, 240 s at most.
        let recorded = delays.withLock { $0 }
        XCTAssertEqual(recorded.count, 4)
        for (index, delay) in recorded.enumerated() { XCTAssertLessThanOrEqual(delay, .seconds(30 << index), "attempt \(index + 1)") }
        XCTAssertTrue(EnrolmentRetry.Enrolled().description.contains("restarts"))
    }

    func testARefusedTokenIsNotRetriedAndTheDaemonGoesOn() async throws {
        let attempts = Mutex(0)
        let (tried, tell) = AsyncStream.makeStream(of: Int.self)
        let refused = refused
        let retry = EnrolmentRetry(enroll: { () async throws(EnrolmentError) in
            tell.yield(attempts.withLock { $0 += 1; return $0 })
            throw refused
        }, sleep: { _ in }, logger: Logger(label: "test"))
        let group = group(retry)
        let running = Task { try await group.run() }
        var iterator = tried.makeAsyncIterator()
        let first = await iterator.next()
        XCTAssertEqual(first, 1)
        // The service now waits for the daemon's shutdown: the group is still running.
        await group.triggerGracefulShutdown()
        try await running.value  // ends normally: no Enrolled, no error
        XCTAssertEqual(attempts.withLock { $0 }, 1, "a refused token is tried once")
    }

    func testWhichFailuresAreRetried() {
        for reason in [EnrolmentError.Reason.hubUnreachable, .tlsNotTrusted, .badAnswer, .files] { XCTAssertTrue(EnrolmentRetry.isRetryable(reason)) }
        for reason in [EnrolmentError.Reason.notConfigured, .tokenRefused, .certificateRefused, .requestRefused] {
            XCTAssertFalse(EnrolmentRetry.isRetryable(reason))
        }
    }
}
