import DocumentModel
import Foundation
import XCTest
@testable import GatewayCore
import TimeJSON

/// The doctor's judgements on facts handed to them: the thresholds, the exit status, the JSON keys.
final class UnitDoctorTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_795_000_000)
    let day: TimeInterval = 86400

    func testCertificateThresholds() {
        func status(from start: TimeInterval, to end: TimeInterval, knownStart: Bool = true) -> DoctorStatus {
            DoctorCertificates.judge(id: "c", vi: "x", en: "x", notBefore: knownStart ? now.addingTimeInterval(start * day) : nil,
                                     notAfter: now.addingTimeInterval(end * day), now: now).status
        }
        XCTAssertEqual(status(from: -10, to: 355), .ok)
        XCTAssertEqual(status(from: -300, to: 100), .warning, "100 of 400 days left: under a third of the lifetime")
        XCTAssertEqual(status(from: -1, to: 29), .warning, "under 30 days, whatever the lifetime")
        XCTAssertEqual(status(from: -10, to: -0.001), .fail, "expired")
        XCTAssertEqual(status(from: 0.5, to: 90), .fail, "not yet valid")
        XCTAssertEqual(status(from: 0, to: 31, knownStart: false), .ok, "a token's summary: the 30 days alone")
        XCTAssertEqual(status(from: 0, to: 29, knownStart: false), .warning)
    }

    func testClockThresholds() {
        func status(_ offset: TimeInterval) -> DoctorStatus {
            DoctorHub.clock(hubDate: now, sentAt: now.addingTimeInterval(offset + 0.5)).status
        }
        XCTAssertEqual(status(0), .ok)
        XCTAssertEqual(status(-59), .ok)
        XCTAssertEqual(status(61), .warning)
        XCTAssertEqual(status(-299), .warning)
        XCTAssertEqual(status(-600), .fail)
        XCTAssertEqual(status(301), .fail)
        XCTAssertEqual(DoctorHub.clock(hubDate: nil, sentAt: now).status, .warning, "a hub without Date cannot be compared")
    }

    func testHubLinesFollowHowFarTheRequestGot() {
        func statuses(_ probe: HubProbe) -> [String: DoctorStatus] {
            Dictionary(uniqueKeysWithValues: DoctorHub.judge(probe, hubURL: "https://hub").map { ($0.id, $0.status) })
        }
        XCTAssertEqual(statuses(.notConfigured), ["hub": .ok])
        XCTAssertEqual(statuses(.boxFiles("no key")), ["hub": .fail, "hub_tls": .warning, "box_certificate_accepted": .warning, "clock": .warning])
        XCTAssertEqual(statuses(.unreachable("refused")), ["hub": .fail, "hub_tls": .warning, "box_certificate_accepted": .warning, "clock": .warning])
        XCTAssertEqual(statuses(.tlsFailed(finding: nil, error: "x")), ["hub": .ok, "hub_tls": .fail, "box_certificate_accepted": .warning, "clock": .warning])
        XCTAssertEqual(statuses(.answered(status: 403, date: now, sentAt: now)),
                       ["hub": .ok, "hub_tls": .ok, "box_certificate_accepted": .fail, "clock": .ok])
        XCTAssertEqual(statuses(.answered(status: 200, date: now, sentAt: now)),
                       ["hub": .ok, "hub_tls": .ok, "box_certificate_accepted": .ok, "clock": .ok])
    }

    func testDiskThresholds() {
        let mib: Int64 = 1 << 20
        func status(free: Int64, total: Int64 = 1000 * mib, reserve: Int64 = 200 * mib) -> DoctorStatus {
            DoctorDisk.judge(.init(free: free, total: total), reserve: reserve, path: "/").status
        }
        XCTAssertEqual(status(free: 500 * mib), .ok)
        XCTAssertEqual(status(free: 399 * mib), .warning, "under twice the reserve")
        XCTAssertEqual(status(free: 99 * mib, reserve: 0), .warning, "under a tenth of the filesystem")
        XCTAssertEqual(status(free: 199 * mib), .fail, "under the reserve: intake refuses")
    }

    func testExitStatusAndStableJSONKeys() throws {
        let ok = DoctorCheck("a", .ok, "vi", "en")
        let warning = DoctorCheck("b", .warning, "vi", "en", action: "làm", "do")
        let failure = DoctorCheck("c", .fail, "vi", "en", action: "làm", "do")
        XCTAssertEqual(DoctorReport(checkedAt: now, checks: [ok]).exitCode, 0)
        XCTAssertEqual(DoctorReport(checkedAt: now, checks: [ok, warning]).exitCode, 1)
        XCTAssertEqual(DoctorReport(checkedAt: now, checks: [failure, warning, ok]).exitCode, 2)
        let json = try JSONSerialization.jsonObject(with: GatewayJSON.encoder.encode(DoctorReport(checkedAt: now, checks: [ok, failure]))) as? [String: Any]
        XCTAssertEqual(json?["status"] as? String, "fail")
        let lines = try XCTUnwrap(json?["checks"] as? [[String: Any]])
        for line in lines {
            XCTAssertEqual(Set(line.keys), ["id", "status", "message_vi", "message_en", "action_vi", "action_en"], "the same keys on every line")
        }
        XCTAssertTrue(lines[0]["action_en"] is NSNull)
    }

    func testTokensSayWhichBackendServesThemAndWhatIsWrong() {
        let piv = TokenSummary(reader: "Reader 0", model: "SafeNet eToken 5110", usbID: "0529:0620", atr: "3B", piv: true,
                               certificates: [.init(slot: "9c", subject: "CN=Nguyễn Văn An", notAfter: now.addingTimeInterval(10 * day))],
                               pinTriesLeft: 3, pinBlocked: false, problem: nil, insertedAt: now, backend: "piv")
        let unserved = TokenSummary(reader: "Reader 1", model: nil, usbID: nil, atr: "3B8F", piv: false, certificates: [], pinTriesLeft: nil,
                                    pinBlocked: nil, problem: "cài opensc-pkcs11 / install opensc-pkcs11", insertedAt: now, backend: "none")
        let checks = DoctorTokens.judge(TokenServiceStatus(pcscd: "ok", readers: ["Reader 0", "Reader 1"], tokens: [piv, unserved]), now: now)
        XCTAssertEqual(checks.map(\.id), ["pcscd", "token:Reader 0", "certificate.token:Reader 0:9c", "token:Reader 1"])
        XCTAssertEqual(checks.map(\.status), [.ok, .ok, .warning, .warning])
        XCTAssertTrue(checks[1].messageEN.contains("served by PIV, 3 PIN tries left"), checks[1].messageEN)
        XCTAssertTrue(checks[3].messageEN.hasSuffix("cannot be used (—): install opensc-pkcs11"), checks[3].messageEN)
        XCTAssertTrue(checks[3].messageVI.hasSuffix("không dùng được (—): cài opensc-pkcs11"), checks[3].messageVI)
        let down = DoctorTokens.judge(TokenServiceStatus(pcscd: "unavailable", readers: [], tokens: []), now: now)
        XCTAssertEqual(down.map(\.status), [.fail, .ok], "pcscd down; no token is not a fault")
    }

    func testQueueAgePerLane() {
        let facts = DoctorStore.Facts(lanes: [.init(lane: .khan, count: 2, oldestQueuedAt: now.addingTimeInterval(-3 * 3600)),
                                              .init(lane: .thuong, count: 1, oldestQueuedAt: now.addingTimeInterval(-600))])
        let checks = DoctorStore.judgeQueues(facts, maximumAge: .seconds(3600), now: now)
        XCTAssertEqual(checks.map(\.id), ["queue.hoa_toc", "queue.thuong_khan", "queue.khan", "queue.thuong"])
        XCTAssertEqual(checks.map(\.status), [.ok, .ok, .warning, .ok])
        XCTAssertTrue(checks[2].messageEN.contains("2 document(s) waiting, the oldest for 180 min (limit 60 min)"), checks[2].messageEN)
    }

    /// The box certificate's renewal: only for an enrolled box; not enrolled fails; a failed or
    /// late renewal warns with the error in both languages; expired fails.
    func testRenewalLines() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        XCTAssertNil(DoctorRenewal.judge(enrolled: false, certificatePresent: true, state: nil, now: now))
        XCTAssertEqual(DoctorRenewal.judge(enrolled: true, certificatePresent: false, state: nil, now: now)?.status, .fail)
        XCTAssertEqual(DoctorRenewal.judge(enrolled: true, certificatePresent: true, state: nil, now: now)?.status, .ok)
        var state = RenewalState(notBefore: now - 10 * 86400, notAfter: now + 80 * 86400, nextAttemptAt: now + 50 * 86400)
        XCTAssertEqual(DoctorRenewal.judge(enrolled: true, certificatePresent: true, state: state, now: now)?.status, .ok)
        // Past 2/3 of the lifetime (and the jitter) without a renewal: late.
        let late = DoctorRenewal.judge(enrolled: true, certificatePresent: true, state: state, now: now + 60 * 86400)
        XCTAssertEqual(late?.status, .warning)
        (state.lastErrorVi, state.lastErrorEn, state.failures) = ("cấp trên từ chối", "the hub refused", 2)
        let failed = DoctorRenewal.judge(enrolled: true, certificatePresent: true, state: state, now: now)
        XCTAssertEqual(failed?.status, .warning)
        XCTAssertTrue(failed?.messageVI.contains("cấp trên từ chối") == true && failed?.messageEN.contains("the hub refused") == true)
        XCTAssertNotNil(failed?.actionVI)
        XCTAssertEqual(DoctorRenewal.judge(enrolled: true, certificatePresent: true, state: state, now: now + 81 * 86400)?.status, .fail)
    }
}
