import DocumentModel
import Foundation
import TestSupport
import XCTest
@testable import GatewayCore
import TimeJSON

/// Issue 20, acceptance 4's last sentence, through the real relay: the province's office posts
/// documents down through the real `hubd`, a running gatewayd box takes them; a backup taken
/// before some of them (`BackupWriter`, the box running) is restored (`BackupRestore`, which
/// leaves the `restored-from.json` marker) and at its restart the box asks the hub
/// for what it acknowledged since: those documents arrive again, and every document is in the
/// inbox once. Then `gatewayd inbox redeliver --since` asks for everything again, and nothing is
/// stored twice.
///
/// Needs `hubd` (as RelayEndToEndTests), curl and sqlite3.
final class RedeliveryRelayTests: XCTestCase {
    let province = "000.00.00.H41", commune = "000.00.20.H13"
    var directory = "", pki: TestPKI!
    var started: (hub: Process, port: Int, office: TestPKI.Signer)?
    var box: RunningDaemon?
    var hubPort: Int { started?.port ?? 0 }

    override func setUp() async throws {
        (directory, pki) = try Hubd.prepare("gw-redeliver", caSubject: "/CN=Redelivery test CA/O=Sở TT&TT (thử nghiệm)")
    }

    override func tearDown() async throws { Hubd.cleanUp(box: box, hub: started?.hub, directory: directory) }

    func post(_ number: String) async throws {
        let path = try await Hubd.documentPackage(number: number, province: province, commune: commune, directory: directory)
        let posted = Hubd.postAsOffice(path, pki: pki, office: try XCTUnwrap(started).office, port: hubPort)
        XCTAssertEqual(posted.http, "201", posted.body)
    }

    /// The documents in the box's inbox, by number, with how many entries each has.
    func documents() -> [String: Int] {
        let body = box?.curl([], path: "/v1/inbox?limit=1000").body ?? ""
        guard let list = try? GatewayJSON.decoder.decode(InboxList.self, from: Data(body.utf8)) else { return [:] }
        var counts: [String: Int] = [:]
        for item in list.items where item.kind == .document && item.statusSentAt != nil {
            // `<from>,<date>,<number>/<notation>`
            let number = item.key.split(separator: ",").last?.split(separator: "/").first.map(String.init) ?? item.key
            counts[number, default: 0] += 1
        }
        return counts
    }

    /// The hub's inbox rows for the commune that wait (for a first delivery, or again).
    func waitingAtHub() -> Int {
        let out = runProgram("/usr/bin/sqlite3", [directory + "/hub/hub.sqlite",
                                                  "SELECT count(*) FROM inbox WHERE delivered_at IS NULL OR redeliver_at IS NOT NULL"]).out
        return Int(out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    func stored() -> Int {
        ((try? String(contentsOfFile: box?.logPath ?? "", encoding: .utf8)) ?? "").components(separatedBy: "incoming package stored").count - 1
    }

    func log() -> String {
        "\n--- gatewayd\n" + ((try? String(contentsOfFile: box?.logPath ?? "", encoding: .utf8)) ?? "")
            + "\n--- hubd\n" + ((try? String(contentsOfFile: directory + "/hubd.log", encoding: .utf8)) ?? "")
    }

    func stopBox() async throws {
        let box = try XCTUnwrap(box)
        let stopped = await box.terminate(exitingWithin: 60, for: self)
        XCTAssertTrue(stopped)
    }

    func testDocumentsAcknowledgedAfterTheRestoredBackupArriveAgainOnceEach() async throws {
        started = try await Hubd.startProvince(pki: pki, directory: directory, province: province, commune: commune)
        let box = try RunningDaemon(config: try Hubd.boxConfiguration(pki: pki, commune: commune, port: hubPort))
        self.box = box
        try await box.waitUntilReady()

        // Document 1, taken and answered (its 01 sent: acknowledged at the hub before that).
        try await post("1")
        try? await waitUntil(seconds: 60) { [self] in documents() == ["1": 1] }
        XCTAssertEqual(documents(), ["1": 1], log())

        // A backup taken while the box runs (BackupWriter, as `gatewayd backup`).
        var configuration = try ConfigurationLoader.load(path: box.directory + "/gatewayd.toml")
        configuration.dataDirectory = box.dataDirectory
        let backup = directory + "/box.backup"
        let taken = try BackupWriter.write(configuration: configuration, configurationFile: nil, includeKeys: nil, toFile: backup)

        // Documents 2 and 3 arrive after the backup.
        try await post("2")
        try await post("3")
        try? await waitUntil(seconds: 60) { [self] in documents() == ["1": 1, "2": 1, "3": 1] }
        XCTAssertEqual(documents(), ["1": 1, "2": 1, "3": 1], log())
        XCTAssertEqual(waitingAtHub(), 0)
        XCTAssertEqual(stored(), 3)

        // The box dies; its backup is restored (BackupRestore, as `gatewayd restore`: the store
        // replaced, the marker written).
        try await stopBox()
        _ = try BackupRestore.restore(path: backup, dataDirectory: box.dataDirectory, force: true, passphrase: nil)
        let marker = box.dataDirectory + "/" + BackupFormat.restoredMarkerName
        XCTAssertTrue(FileManager.default.fileExists(atPath: marker))
        try box.launch()
        try await box.waitUntilReady()

        // 2 and 3 arrive again; 1 too is listed again (within the margin), and taken once.
        try? await waitUntil(seconds: 60) { [self] in
            documents() == ["1": 1, "2": 1, "3": 1] && !FileManager.default.fileExists(atPath: marker) && waitingAtHub() == 0
        }
        XCTAssertEqual(documents(), ["1": 1, "2": 1, "3": 1], log())
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "the marker goes once the hub agreed")
        XCTAssertEqual(waitingAtHub(), 0, log())
        XCTAssertEqual(stored(), 5, "2 and 3 stored again, 1 recognised: " + log())
        let hubLog = (try? String(contentsOfFile: directory + "/hubd.log", encoding: .utf8)) ?? ""
        XCTAssertTrue(hubLog.contains("inbox items requeued for redelivery"), hubLog)

        // By hand, from before everything: all three listed again, none stored twice.
        let asked = box.cli(["inbox", "redeliver", "--since", GatewayJSON.format(taken.description.startedAt.addingTimeInterval(-86400))])
        XCTAssertEqual(asked.status, 0, asked.err)
        let request = box.dataDirectory + "/redeliver.json"
        try? await waitUntil(seconds: 60) { [self] in !FileManager.default.fileExists(atPath: request) && waitingAtHub() == 0 }
        XCTAssertFalse(FileManager.default.fileExists(atPath: request), log())
        XCTAssertEqual(waitingAtHub(), 0, log())
        XCTAssertEqual(documents(), ["1": 1, "2": 1, "3": 1], log())
        XCTAssertEqual(stored(), 5, log())
        XCTAssertEqual(box.cli(["inbox", "redeliver", "--since", "tomorrow"]).status, 1)

        // Only a box asks, for its own commune (its certificate's); a body that is not a time is refused.
        func ask(_ certificate: (chain: String, key: String), _ body: String) -> String {
            let out = runProgram("/usr/bin/curl", ["-sS", "--cacert", pki.root, "--cert", certificate.chain, "--key", certificate.key,
                                                   "-H", "Content-Type: application/json", "--data-binary", body, "-o", "/dev/null",
                                                   "-w", "%{http_code}", "https://localhost:\(hubPort)/v1/inbox/redeliver"]).out
            return out
        }
        let office = try XCTUnwrap(started).office
        XCTAssertEqual(ask((office.chain, office.key), #"{"since":"2026-12-01T00:00:00Z"}"#), "403")
        // `Hubd.boxConfiguration` issued the box's certificate as "box" in the test CA's directory.
        let boxCertificate = (pki.directory + "/box.pem", pki.directory + "/box.key")
        XCTAssertEqual(ask(boxCertificate, #"{"since":"yesterday"}"#), "400")
        XCTAssertEqual(waitingAtHub(), 0, "nothing requeued by a refused request")
    }
}
