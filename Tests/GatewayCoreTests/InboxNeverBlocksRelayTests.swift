import DocumentModel
import DurableFiles
import EdXML
import Foundation
import TestSupport
import XCTest
@testable import GatewayCore
import TimeJSON

/// Issue 16 ("A hostile world"), the inbox's attacks through the real relay: the province's office
/// posts through the real `hubd` (curl, an office certificate) and a running gatewayd box pulls.
/// A package whose bytes at the hub no longer match their hash is set aside and taken once
/// repaired; one stored at the hub before its fields were checked (a date `2026/13/45`) is refused
/// back and the office receives that commune's 02, as is one listed larger than the box accepts
/// (never downloaded); hubd now refuses such a package at submission;
/// and through it all the next document arrives in its normal time.
///
/// Needs `hubd` (as RelayEndToEndTests), curl, openssl and sqlite3.
final class InboxNeverBlocksRelayTests: XCTestCase {
    let province = "000.00.00.H41", commune = "000.00.20.H13"
    var directory = "", pki: TestPKI!
    var started: (hub: Process, port: Int, office: TestPKI.Signer)?
    var box: RunningDaemon?
    var hubPort: Int { started?.port ?? 0 }
    var office: TestPKI.Signer { started!.office }

    override func setUp() async throws {
        (directory, pki) = try Hubd.prepare("gw-inbox-hostile", caSubject: "/CN=Inbox test CA/O=Sở TT&TT (thử nghiệm)")
    }

    override func tearDown() async throws { Hubd.cleanUp(box: box, hub: started?.hub, directory: directory) }

    var hubData: String { directory + "/hub" }

    func startHub() async throws {
        started = try await Hubd.startProvince(pki: pki, directory: directory, province: province, commune: commune)
    }

    func startBox() async throws -> RunningDaemon {
        let box = try RunningDaemon(config: try Hubd.boxConfiguration(pki: pki, commune: commune, port: hubPort))
        self.box = box
        try await box.waitUntilReady()
        return box
    }

    func package(number: String) async throws -> String {
        try await Hubd.documentPackage(number: number, province: province, commune: commune, directory: directory)
    }

    func post(_ path: String) -> (http: String, body: String) { Hubd.postAsOffice(path, pki: pki, office: office, port: hubPort) }

    /// Posts `number` and returns the hub's stored copy of it (the one new file in `packages/`).
    func postAndFindStored(_ number: String) async throws -> (path: String, stored: String) {
        let before = Set((try? FileManager.default.contentsOfDirectory(atPath: hubData + "/packages")) ?? [])
        let path = try await package(number: number)
        XCTAssertEqual(post(path).http, "201")
        let added = Set(try FileManager.default.contentsOfDirectory(atPath: hubData + "/packages")).subtracting(before)
        return (path, hubData + "/packages/" + (try XCTUnwrap(added.first)))
    }

    func status() -> RelayStatus? {
        let body = box?.curl([], path: "/v1/status").body ?? ""
        return (try? GatewayJSON.decoder.decode(DaemonStatus.self, from: Data(body.utf8)))?.relay
    }

    func arrived(_ number: String) -> Bool {
        let body = box?.curl([], path: "/v1/inbox").body ?? ""
        let list = try? GatewayJSON.decoder.decode(InboxList.self, from: Data(body.utf8))
        return list?.items.contains { $0.kind == .document && $0.key.contains(",\(number)/") } ?? false
    }

    func officeGet(_ path: String) -> String {
        runProgram("/usr/bin/curl", ["-sS", "--cacert", pki.root, "--cert", office.chain, "--key", office.key, "https://localhost:\(hubPort)" + path]).out
    }

    static func sha256Hex(_ path: String) throws -> String {
        try POSIXFile.sha256(ofFile: path).sha256
    }

    func log() -> String {
        "\n--- gatewayd\n" + ((try? String(contentsOfFile: box?.logPath ?? "", encoding: .utf8)) ?? "")
            + "\n--- hubd\n" + ((try? String(contentsOfFile: directory + "/hubd.log", encoding: .utf8)) ?? "")
    }

    func testAlteredBadlyDatedAndOversizedItemsNeitherBlockTheInbox() async throws {
        try await startHub()

        // 1: its bytes at the hub altered after it was stored (same size, one byte).
        let (original, altered) = try await postAndFindStored("1")
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: altered)))
        let good = bytes
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: altered))

        // 3: stored before hubd checked fields (the 1 KB document dated 2026/13/45, with
        // the listing's hash made to match, as an older hubd would have listed it).
        let (_, old) = try await postAndFindStored("3")
        let text = try String(contentsOfFile: old, encoding: .utf8).replacingOccurrences(of: "2026/11/21", with: "2026/13/45")
        try text.write(toFile: old, atomically: true, encoding: .utf8)
        let file = URL(fileURLWithPath: old).lastPathComponent
        let updated = runProgram("/usr/bin/sqlite3", [hubData + "/hub.sqlite",
                                                      "UPDATE packages SET sha256 = '\(try Self.sha256Hex(old))' WHERE file = '\(file)'"])
        XCTAssertEqual(updated.status, 0, updated.err)

        // 5: listed at 1.5 GiB, as an older hubd (2 GiB limit) would have taken it; the box accepts 1 GiB.
        let (_, large) = try await postAndFindStored("5")
        let resized = runProgram("/usr/bin/sqlite3", [hubData + "/hub.sqlite",
                                                      "UPDATE packages SET size = \(3 << 29) WHERE file = '\(URL(fileURLWithPath: large).lastPathComponent)'"])
        XCTAssertEqual(resized.status, 0, resized.err)

        // Today's hubd refuses such a package at submission.
        let dated = directory + "/dated.edxml"
        try (try String(contentsOfFile: try await package(number: "4"), encoding: .utf8))
            .replacingOccurrences(of: "2026/11/21", with: "2026/13/45").write(toFile: dated, atomically: true, encoding: .utf8)
        let refused = post(dated)
        XCTAssertEqual(refused.http, "422", refused.body)
        XCTAssertTrue(refused.body.contains("invalid_fields"), refused.body)

        let box = try await startBox()
        // Item 1 set aside with its reason, items 3 and 5 refused back: the box has been through them.
        try? await waitUntil(seconds: 30) { [self] in status()?.inboxSetAside?.contains { $0.what == "item 1" } ?? false }
        let aside = try XCTUnwrap(status()?.inboxSetAside?.first { $0.what == "item 1" }, log())
        XCTAssertTrue(aside.reason.contains("SHA-256"), aside.reason)
        XCTAssertTrue(box.curl([], path: "/metrics").body.contains("gatewayd_relay_inbox_set_aside 1"))
        let shown = box.cli(["status"]).out
        XCTAssertTrue(shown.contains("set aside") && shown.contains("item 1 — "), shown)

        // The next document arrives in its normal time (the long poll is 2 s).
        let second = try await package(number: "2")
        let posted = Date()
        XCTAssertEqual(post(second).http, "201")
        try? await waitUntil(seconds: 30) { [self] in arrived("2") }
        XCTAssertTrue(arrived("2"), log())
        XCTAssertLessThan(Date().timeIntervalSince(posted), 5, "within a long poll or two" + log())
        XCTAssertFalse(arrived("1"))
        XCTAssertFalse(arrived("3"))
        XCTAssertFalse(arrived("5"))

        // The office hears the commune's refusals of 3 and 5 as statuses 02 with their reasons
        // (beside the 01 for 2).
        func refusals() -> [String] {
            let received = officeGet("/office/v1/received")
            let items = (try? JSONSerialization.jsonObject(with: Data(received.utf8)) as? [String: Any])?["items"] as? [[String: Any]] ?? []
            return items.filter { $0["kind"] as? String == "status" && $0["from"] as? String == commune }.compactMap { item -> String? in
                guard let id = item["id"] as? Int else { return nil }
                let body = officeGet("/office/v1/received/\(id)")
                return body.contains("<StatusCode>02</StatusCode>") ? body : nil
            }
        }
        try? await waitUntil(seconds: 30) { refusals().count == 2 }
        var reasons: [String] = []
        for body in refusals() {
            let statusFile = directory + "/refusal-\(reasons.count).edxml"
            try body.write(toFile: statusFile, atomically: true, encoding: .utf8)
            guard case .status(let refusal) = try await PackageReader.read(path: statusFile).package else { return XCTFail("not a status") }
            XCTAssertEqual(refusal.statusCode, .refused)
            XCTAssertEqual(refusal.from.organId, commune)
            reasons.append(refusal.description ?? "")
        }
        XCTAssertEqual(reasons.count, 2, log())
        XCTAssertTrue(reasons.contains { $0.contains("2026/13/45") }, "\(reasons)")
        XCTAssertTrue(reasons.contains { $0.contains("\(3 << 29) bytes") }, "\(reasons)")

        // The hub's copy of 1 repaired: the box takes it on its own retry, without a restart.
        try Data(good).write(to: URL(fileURLWithPath: altered))
        XCTAssertEqual(try Self.sha256Hex(altered), try Self.sha256Hex(original))
        // Cleared once it is acknowledged, placed and answered, a moment after it shows.
        try? await waitUntil(seconds: 30) { [self] in arrived("1") && status()?.inboxSetAside == [] }
        XCTAssertTrue(arrived("1"), log())
        XCTAssertEqual(status()?.inboxSetAside ?? [], [])
    }
}
