// The overview's warnings with the time passed in: working days over a weekend, certificates near
// their end, the disk near its reserve, and the store's count of documents that did not move.
@testable import Console
import DocumentModel
import Foundation
import GatewayCore
import Logging
import XCTest

final class UnitOverviewWarningsTests: XCTestCase {
    /// Friday 04/12/2026 10:00 in Vietnam.
    let friday = Date(timeIntervalSince1970: 1_796_353_200)

    func testWorkingDaysSkipTheWeekend() {
        // One working day: "at the latest the next working day", Monday, so late from Tuesday 00:00.
        let mondayNight = Date(timeIntervalSince1970: 1_796_659_200)  // Monday 23:00
        let tuesday = Date(timeIntervalSince1970: 1_796_662_860)  // Tuesday 00:01
        XCTAssertFalse(friday < WorkingDays.cutoff(days: 1, now: mondayNight))
        XCTAssertTrue(friday < WorkingDays.cutoff(days: 1, now: tuesday))
        // Two working days: late from Wednesday 00:00, not on Tuesday 23:59.
        XCTAssertFalse(friday < WorkingDays.cutoff(days: 2, now: Date(timeIntervalSince1970: 1_796_749_140)))
        XCTAssertTrue(friday < WorkingDays.cutoff(days: 2, now: Date(timeIntervalSince1970: 1_796_749_260)))
        // The same day is never late.
        XCTAssertFalse(friday < WorkingDays.cutoff(days: 1, now: friday + 3600))
    }

    func testEachWarningSaysWhatAndWhatToDoInBothLanguages() {
        let limits = WarningLimits()
        let now = friday
        var facts = OverviewFacts()
        XCTAssertEqual(limits.warnings(facts, now: now), [])
        facts.awaitingLeader = (3, friday - 5 * 86400)
        facts.awaitingSeal = (1, nil)
        facts.undelivered = (2, nil)
        facts.certificates = [("Nguyễn Văn An", now + 10 * 86400 + 60), ("UBND xã", now - 86400), ("Trần Thị Bình", now + 40 * 86400)]
        facts.freeBytes = 300_000_000
        facts.diskReserve = 200_000_000
        let found = limits.warnings(facts, now: now)
        XCTAssertEqual(found.map(\.kind), [.awaitingLeader, .awaitingSeal, .undelivered, .certificateExpiring, .certificateExpired, .diskLow])
        for warning in found { XCTAssertTrue(warning.text.contains(" / "), warning.text) }
        XCTAssertTrue(found[0].text.hasPrefix("3 văn bản chờ lãnh đạo ký quá 2 ngày làm việc (lâu nhất từ / the oldest since 10:00 29/11/2026)"), found[0].text)
        XCTAssertTrue(found[1].text.contains("Quyết định 28/2018"), found[1].text)
        XCTAssertTrue(found[3].text.contains("Nguyễn Văn An hết hạn ngày 14/12/2026 (còn 10 ngày)"), found[3].text)
        XCTAssertTrue(found[4].text.contains("UBND xã đã hết hạn ngày 03/12/2026"), found[4].text)
        facts.renewal = "Gia hạn chứng thư số thất bại (2 lần) / renewing the box's certificate failed (2 times)"
        let renewal = try! XCTUnwrap(limits.warnings(facts, now: now).first { $0.kind == .renewalFailing })
        XCTAssertTrue(renewal.text.hasPrefix(facts.renewal!) && renewal.text.contains("gatewayd doctor"), renewal.text)
        facts.renewal = nil
        facts.freeBytes = 100_000_000
        XCTAssertEqual(limits.warnings(facts, now: now).last?.kind, .diskFull)
        facts.freeBytes = 400_000_000
        XCTAssertNotEqual(limits.warnings(facts, now: now).last?.kind, .diskLow)
    }

    /// The store counts the documents that have not moved since the cutoff (a clock 10 days on);
    /// the tokens' certificates and the disk come with them.
    func testTheFactsComeFromTheStoreTheTokensAndTheDisk() async throws {
        let directory = NSTemporaryDirectory() + "overview-warnings-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try DocumentStore(layout: StoreLayout(dataDirectory: directory), limits: .init(), logger: Logger(label: "test"),
                                      ioPool: .singleton)
        for subject in ["Một", "Hai"] {
            let staged = try store.beginDocument(expectedSize: nil)
            try staged.append(Array("%PDF-1.4\n".utf8))
            _ = try await store.commit(staged, IntakeRequest(fileName: "\(subject).pdf", metadata: DocumentMetadata(
                recipients: [AgencyCode("000.00.20.H13")!], subject: subject, signatures: [.leader, .organization]), source: .api, intakeKey: nil, cause: "test"))
        }
        let watch = OverviewWatch(store: store, limits: WarningLimits(), boxCertificate: nil)
        let token = TokenSummary(reader: "r", model: "eToken", usbID: nil, atr: "", piv: true,
                                 certificates: [.init(slot: "9c", subject: "CN=Nguyễn Văn An", notAfter: Date() + 86400)],
                                 pinTriesLeft: 3, pinBlocked: false, problem: nil, insertedAt: Date())
        let tokens = TokenServiceStatus(pcscd: "ok", readers: ["r"], tokens: [token])
        let today = try watch.facts(now: Date(), tokens: tokens)
        XCTAssertEqual(today.awaitingLeader.count, 0)
        let later = try watch.facts(now: Date() + 10 * 86400, tokens: tokens)
        XCTAssertEqual(later.awaitingLeader.count, 2)
        XCTAssertNotNil(later.awaitingLeader.oldest)
        XCTAssertEqual(later.awaitingSeal.count, 0)
        XCTAssertEqual(later.certificates.map(\.holder), ["Nguyễn Văn An (token eToken)"])
        XCTAssertNotNil(later.freeBytes)
        XCTAssertEqual(later.diskReserve, 200_000_000)
        // The disk's own warning depends on this machine's free space: left out here (above: by facts).
        let kinds = watch.limits.warnings(later, now: Date() + 10 * 86400).map(\.kind).filter { $0 != .diskLow && $0 != .diskFull }
        XCTAssertEqual(kinds, [.awaitingLeader, .certificateExpired])
        // The renewal service's state file: a failed renewal reaches the overview.
        var state = RenewalState(notBefore: Date() - 86400, notAfter: Date() + 2 * 86400, nextAttemptAt: Date() + 600)
        (state.lastErrorVi, state.lastErrorEn, state.failures) = ("cấp trên từ chối", "the hub refused", 3)
        let files = BoxIdentityFiles(dataDirectory: directory)
        try FileManager.default.createDirectory(atPath: (files.state as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try state.save(files.state)
        let refused = try watch.facts(now: Date(), tokens: tokens)
        XCTAssertTrue(refused.renewal?.contains("the hub refused") == true, "\(String(describing: refused.renewal))")
        XCTAssertTrue(watch.limits.warnings(refused, now: Date()).contains { $0.kind == .renewalFailing })
    }

    func testTheLimitsComeFromTheConsoleSection() throws {
        let configuration = try ConfigurationLoader.parse("[console]\nwarn_signature_days = 3\nwarn_seal_days = 2\nwarn_undelivered_hours = 8\n")
        let limits = WarningLimits(configuration.console)
        XCTAssertEqual([limits.signatureDays, limits.sealDays, limits.undeliveredHours, limits.certificateDays], [3, 2, 8, 30])
        XCTAssertEqual(WarningLimits(try ConfigurationLoader.parse("").console), WarningLimits())
        XCTAssertThrowsError(try ConfigurationLoader.parse("[console]\nwarn_seal_days = 0\n"))
        XCTAssertThrowsError(try ConfigurationLoader.parse("[console]\nwarn_seal_days = \"1\"\n"))
    }
}
