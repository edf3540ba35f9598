import DocumentModel
import Foundation
import XCTest
@testable import GatewayCore

/// The relay's pure parts: answer classes, backoff, Retry-After, lanes, the tus client machine,
/// the queue-age warning.
final class UnitRelayTests: XCTestCase {
    // MARK: answers (docs/protocol.md "Errors")

    func testAnswerClasses() {
        XCTAssertEqual(RelayAnswerClass.of(status: 201, errorCode: nil), .success)
        XCTAssertEqual(RelayAnswerClass.of(status: 204, errorCode: nil), .success)
        for status in [400, 403, 404, 413, 415, 422] {
            XCTAssertEqual(RelayAnswerClass.of(status: status, errorCode: "x"), .permanent, "\(status)")
        }
        XCTAssertEqual(RelayAnswerClass.of(status: 409, errorCode: "key_conflict"), .permanent)
        XCTAssertEqual(RelayAnswerClass.of(status: 409, errorCode: "offset_mismatch"), .offsetMismatch)
        for status in [408, 429, 500, 502, 503, 504] {
            XCTAssertEqual(RelayAnswerClass.of(status: status, errorCode: nil), .transient, "\(status)")
        }
    }

    // MARK: backoff

    func testBackoffCeilingDoublesUpToTheCap() {
        let schedule = RetrySchedule(base: .seconds(2), cap: .seconds(60))
        // unit just below 1 gives (almost) the ceiling of each attempt
        let ceilings = (1...8).map { schedule.delay(failures: $0, retryAfter: nil, unit: 1) }
        XCTAssertEqual(ceilings, [.seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(32), .seconds(60), .seconds(60), .seconds(60)])
        XCTAssertEqual(schedule.delay(failures: 3, retryAfter: nil, unit: 0), .zero)
        XCTAssertEqual(schedule.delay(failures: 3, retryAfter: nil, unit: 0.5), .seconds(4))
        XCTAssertEqual(schedule.delay(failures: 10_000, retryAfter: nil, unit: 1), .seconds(60), "no overflow after days offline")
    }

    func testFullJitterSpreadsOverTheWholeRange() {
        let schedule = RetrySchedule(base: .seconds(1), cap: .seconds(600))
        var random = SeededRandom(seed: 42)
        let delays = (0..<2000).map { _ in schedule.delay(failures: 5, retryAfter: nil, using: &random) }
        XCTAssertTrue(delays.allSatisfy { $0 >= .zero && $0 <= .seconds(16) })
        XCTAssertLessThan(delays.min()!, .seconds(1), "full jitter reaches near zero")
        XCTAssertGreaterThan(delays.max()!, .seconds(15), "and near the ceiling")
        let mean = delays.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 }.reduce(0, +) / 2000
        XCTAssertEqual(mean, 8, accuracy: 0.6)
    }

    func testRetryAfterIsAFloor() {
        let schedule = RetrySchedule(base: .seconds(2), cap: .seconds(60))
        XCTAssertEqual(schedule.delay(failures: 1, retryAfter: .seconds(60), unit: 0.5), .seconds(60))
        XCTAssertEqual(schedule.delay(failures: 1, retryAfter: .seconds(120), unit: 1), .seconds(120), "above the cap: the hub knows")
        XCTAssertEqual(schedule.delay(failures: 6, retryAfter: .seconds(1), unit: 1), .seconds(60))
    }

    func testRetryAfterParsing() {
        let now = Date(timeIntervalSince1970: 1_784_000_000)
        XCTAssertEqual(RetryAfter.parse("60", now: now), .seconds(60))
        XCTAssertEqual(RetryAfter.parse(" 0 ", now: now), .zero)
        XCTAssertNil(RetryAfter.parse(nil, now: now))
        XCTAssertNil(RetryAfter.parse("-5", now: now))
        XCTAssertNil(RetryAfter.parse("soon", now: now))
        XCTAssertNil(RetryAfter.parse("٣", now: now), "non-ASCII digits are not delay-seconds")
        // RFC 9110's example date, 49 762 s after 1994-11-06 00:00:00 UTC
        let then = Date(timeIntervalSince1970: 784_080_000)
        XCTAssertEqual(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: then), .seconds(31_777))
        XCTAssertEqual(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: now), .zero, "a date in the past: at once")
    }

    // MARK: lanes

    func testLanesFromPriorities() {
        XCTAssertEqual(Priority.allCases.map { RelayLane($0) }, [.thuong, .khan, .thuongKhan, .hoaToc, .hoaToc])
        XCTAssertEqual(RelayLane.allCases.sorted(by: >), [.hoaToc, .thuongKhan, .khan, .thuong])
    }

    func testGeneralWorkerTakesMostUrgentThenOldest() {
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        let ids = (0..<5).map { _ in DocumentID(uuid: UUID()) }
        let candidates = [
            LaneScheduler.Candidate(id: ids[0], lane: .thuong, queuedAt: t0),
            .init(id: ids[1], lane: .khan, queuedAt: t0.addingTimeInterval(10)),
            .init(id: ids[2], lane: .hoaToc, queuedAt: t0.addingTimeInterval(30)),
            .init(id: ids[3], lane: .hoaToc, queuedAt: t0.addingTimeInterval(20)),
            .init(id: ids[4], lane: .thuongKhan, queuedAt: t0.addingTimeInterval(5)),
        ]
        let scheduler = LaneScheduler()
        var busy: Set<DocumentID> = []
        var order: [DocumentID] = []
        while case .send(let id) = scheduler.next(for: .general, among: candidates, busy: busy, now: t0.addingTimeInterval(100)) {
            order.append(id)
            busy.insert(id)
        }
        XCTAssertEqual(order, [ids[3], ids[2], ids[4], ids[1], ids[0]])
    }

    func testUrgentDocumentNeverWaitsBehindAnOrdinaryUpload() {
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        let large = DocumentID(uuid: UUID())
        let urgent = DocumentID(uuid: UUID())
        let scheduler = LaneScheduler()
        // the general worker is busy with a large Thường upload; a Hỏa tốc document arrives
        let candidates = [LaneScheduler.Candidate(id: large, lane: .thuong, queuedAt: t0),
                          .init(id: urgent, lane: .hoaToc, queuedAt: t0.addingTimeInterval(1))]
        XCTAssertEqual(scheduler.next(for: .express, among: candidates, busy: [large], now: t0), .send(urgent))
        // the express worker never takes Thường, even when idle
        XCTAssertEqual(scheduler.next(for: .express, among: candidates, busy: [urgent], now: t0), .wait(until: nil))
    }

    func testRetryTimesAreRespectedAndReported() {
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        let a = DocumentID(uuid: UUID()), b = DocumentID(uuid: UUID())
        let candidates = [LaneScheduler.Candidate(id: a, lane: .hoaToc, queuedAt: t0, notBefore: t0.addingTimeInterval(30)),
                          .init(id: b, lane: .thuong, queuedAt: t0, notBefore: t0.addingTimeInterval(10))]
        let scheduler = LaneScheduler()
        XCTAssertEqual(scheduler.next(for: .general, among: candidates, busy: [], now: t0), .wait(until: t0.addingTimeInterval(10)))
        XCTAssertEqual(scheduler.next(for: .general, among: candidates, busy: [], now: t0.addingTimeInterval(10)), .send(b))
        XCTAssertEqual(scheduler.next(for: .general, among: candidates, busy: [], now: t0.addingTimeInterval(30)), .send(a))
    }

    // MARK: tus

    func testTusCreateSendComplete() throws {
        var upload = TusUpload(length: 1000)
        XCTAssertEqual(upload.nextAction, .create(length: 1000))
        upload.created(location: "/v1/uploads/u1")
        XCTAssertEqual(upload.nextAction, .send(path: "/v1/uploads/u1", offset: 0))
        try upload.sent(newOffset: 1000, receiptPath: "/v1/uploads/u1/receipt")
        XCTAssertEqual(upload.nextAction, .fetchReceipt(path: "/v1/uploads/u1/receipt"))
    }

    func testTusBreakThenHeadThenRest() throws {
        var upload = TusUpload(length: 1000)
        upload.created(location: "/v1/uploads/u1")
        upload.interrupted()  // the PATCH broke after the hub kept 400 bytes
        XCTAssertEqual(upload.nextAction, .probe(path: "/v1/uploads/u1"))
        try upload.probed(offset: 400, length: 1000)
        XCTAssertEqual(upload.nextAction, .send(path: "/v1/uploads/u1", offset: 400))
        try upload.sent(newOffset: 1000, receiptPath: "/r")
        XCTAssertEqual(upload.nextAction, .fetchReceipt(path: "/r"))
        upload.interrupted()  // a break while fetching the receipt does not resend anything
        XCTAssertEqual(upload.nextAction, .fetchReceipt(path: "/r"))
    }

    func testTusResumesFromAStoredUploadAfterACrash() throws {
        var upload = TusUpload(length: 1000, uploadPath: "/v1/uploads/u1")
        XCTAssertEqual(upload.nextAction, .probe(path: "/v1/uploads/u1"))
        try upload.probed(offset: 400, length: 1000)
        XCTAssertEqual(upload.nextAction, .send(path: "/v1/uploads/u1", offset: 400))
        // the hub had everything but we crashed before hearing its answer: fetch the receipt
        // from its fixed place, send nothing again
        var complete = TusUpload(length: 1000, uploadPath: "/v1/uploads/u1")
        try complete.probed(offset: 1000, length: 1000)
        XCTAssertEqual(complete.nextAction, .fetchReceipt(path: "/v1/uploads/u1/receipt"))
    }

    func testTusLostUploadStartsAgain() {
        var upload = TusUpload(length: 10, uploadPath: "/v1/uploads/gone")
        upload.lost()
        XCTAssertEqual(upload.nextAction, .create(length: 10))
    }

    func testTusRefusesContradictions() {
        var upload = TusUpload(length: 1000, uploadPath: "/u")
        XCTAssertThrowsError(try upload.probed(offset: 10, length: 999))
        XCTAssertThrowsError(try upload.probed(offset: 1001, length: 1000))
        XCTAssertThrowsError(try upload.probed(offset: -1, length: nil))
        XCTAssertNoThrow(try upload.probed(offset: 500, length: nil))
        XCTAssertThrowsError(try upload.sent(newOffset: 499, receiptPath: nil), "went backwards")
        XCTAssertThrowsError(try upload.sent(newOffset: 1000, receiptPath: nil), "complete without a receipt")
    }

    // MARK: age warning (Decision 28/2018)

    func testAgeWarning() {
        let now = Date(timeIntervalSince1970: 2_000_000)
        let rule = QueueAgeRule(maximumAge: .seconds(4 * 3600))
        XCTAssertNil(rule.warning(queuedSince: [], now: now))
        XCTAssertNil(rule.warning(queuedSince: [now.addingTimeInterval(-4 * 3600 + 1)], now: now))
        let warning = rule.warning(queuedSince: [now.addingTimeInterval(-5 * 3600), now.addingTimeInterval(-60),
                                                 now.addingTimeInterval(-6.5 * 3600)], now: now)
        XCTAssertEqual(warning?.count, 2)
        XCTAssertEqual(warning?.oldestAge, .seconds(Int64(6.5 * 3600)))
        XCTAssertEqual(warning?.message.contains("6.5 giờ"), true)
        XCTAssertEqual(warning?.message.contains("6.5 h"), true)
        let short = QueueAgeRule(maximumAge: .seconds(600)).warning(queuedSince: [now.addingTimeInterval(-1500)], now: now)
        XCTAssertEqual(short?.message.contains("25 phút"), true, short?.message ?? "")
        XCTAssertEqual(short?.message.contains("25 min"), true)
    }
}

/// SplitMix64: a seeded generator so the jitter test sees the same numbers every run.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension UnitRelayTests {
    /// Host-name matching of the hub's certificate names (RFC 6125, simple form).
    func testHubCertificateNameMatching() {
        XCTAssertTrue(HubTLSDiagnosis.matches(name: "hub.tinh.gov.vn", host: "HUB.tinh.gov.vn"))
        XCTAssertTrue(HubTLSDiagnosis.matches(name: "*.tinh.gov.vn", host: "hub.tinh.gov.vn"))
        XCTAssertFalse(HubTLSDiagnosis.matches(name: "*.tinh.gov.vn", host: "a.hub.tinh.gov.vn"), "a wildcard is one label")
        XCTAssertFalse(HubTLSDiagnosis.matches(name: "*.tinh.gov.vn", host: "tinh.gov.vn"))
        XCTAssertFalse(HubTLSDiagnosis.matches(name: "hub.example.vn", host: "localhost"))
        XCTAssertTrue(HubTLSDiagnosis.matches(name: "127.0.0.1", host: "127.0.0.1"))
    }
}
