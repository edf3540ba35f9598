import Foundation
import GatewayCore
import TestSupport
import XCTest
@testable import TokenDriver

/// The daemon's signing routes end to end: the real `gatewayd serve` (a separate process),
/// pcscd, and the leader's virtual card carrying the test CA's leader certificate
/// (CCCD:001085012345). The session is opened over the socket as a client would; returning and
/// withdrawing go through the CLI as the clerk would.
final class SigningSessionDaemonTests: XCTestCase {
    static let testPKI = repositoryRoot.appendingPathComponent("scripts/lib/testpki.py").path
    static let scriptsLibrary = repositoryRoot.appendingPathComponent("scripts/lib").path
    /// The leader of the test CA's certificate; no images (the signature is then invisible).
    static let config = """
        [signing]
        clock = "trust_local_clock"
        [[signing.leaders]]
        name = "Nguyễn Văn An"
        title = "CHỦ TỊCH"
        identity = "CCCD:001085012345"
        [agency]
        code = "000.00.20.H14"
        name = "UBND xã Hòa Tiến"
        [intake]
        default_recipients = ["000.00.20.H13"]
        """

    var context: PCSCContext!
    var card: VirtualCard?
    var daemon: LoggedDaemon?
    /// The test CA's keys and certificates (scripts/lib/testpki.py) and the documents.
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("signing-daemon-\(UUID().uuidString)").path

    override func setUp() async throws { context = try VirtualCard.requirements() }

    override func tearDown() async throws {
        daemon?.stop()
        card?.remove(context)
        try? FileManager.default.removeItem(atPath: work)
    }

    /// The card's own PIN counter (the emulator's state.json), read beside the daemon.
    func triesOnTheCard() throws -> Int {
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: card!.directory + "/state.json")))
        return try XCTUnwrap((state as? [String: Any])?["tries"] as? Int)
    }

    /// The session's status once it has ended (long polls: the daemon answers when it changes).
    func ended(_ opened: SigningSessionStatus, _ client: LocalAPIClient) async throws -> SigningSessionStatus {
        var status = opened
        while status.phase == .signing { status = try await client.signingSession(status.id, after: status.results.count, wait: 30) }
        return status
    }

    func testAWrongPINCostsOneTryAndSignsNothingAndReturnedOrWithdrawnDocumentsAreNeverSigned() async throws {
        let pki = work
        try FileManager.default.createDirectory(atPath: pki, withIntermediateDirectories: true)
        let made = runProgram("/usr/bin/env", ["python3", Self.testPKI, "signing", pki])
        XCTAssertEqual(made.status, 0, made.err)
        card = try VirtualCard(["--no-extended", "--import-9c", "\(pki)/leader.key:\(pki)/leader.pem"])
        try VirtualReader.connectWhenPresent(context).disconnect()
        let reader = try VirtualReader.reader(context)
        let daemon = try LoggedDaemon(config: Self.config)
        self.daemon = daemon
        _ = try await daemon.log.first(within: 10) { $0.contains("local API listening") }
        _ = try await daemon.log.first(within: 10) { $0.contains("token identified") && $0.contains("reader=\(reader)") }
        let client = LocalAPIClient(socketPath: daemon.dataDirectory + "/run/gatewayd.sock")

        // Three one-page PDFs (scripts/lib/samples.py), submitted through the CLI.
        var ids: [DocumentID] = []
        for number in 1...3 {
            let path = pki + "/van-ban-\(number).pdf"
            let written = runProgram("/usr/bin/env", ["python3", "-c", """
                import sys; sys.path.insert(0, sys.argv[1]); from samples import pdf
                open(sys.argv[2], "wb").write(pdf(b"so \(number)"))
                """, Self.scriptsLibrary, path])
            XCTAssertEqual(written.status, 0, written.err)
            let submitted = runProgram(LoggedDaemon.binary, ["submit", path, "--subject", "Văn bản \(number)", "--data-dir", daemon.dataDirectory])
            XCTAssertEqual(submitted.status, 0, submitted.err)
            ids.append(try XCTUnwrap(DocumentID(submitted.out.trimmingCharacters(in: .whitespacesAndNewlines))))
        }
        for id in ids {
            let state = try await client.show(id.description).document.state
            XCTAssertEqual(state, .awaitingLeader)
        }

        // The leader returns the first to the clerk; the clerk withdraws the second.
        let returned = runProgram(LoggedDaemon.binary, ["return", ids[0].description, "--note", "Sửa lại trích yếu", "--by", "Chủ tịch",
                                                        "--data-dir", daemon.dataDirectory])
        XCTAssertEqual(returned.status, 0, returned.err)
        let withdrawn = runProgram(LoggedDaemon.binary, ["withdraw", ids[1].description, "--data-dir", daemon.dataDirectory])
        XCTAssertEqual(withdrawn.status, 0, withdrawn.err)

        // A wrong PIN: the session stops at the card's first answer, tries left said, one try spent.
        XCTAssertEqual(try triesOnTheCard(), 3)
        var wrong = Array(VirtualCard.wrongPIN.utf8)
        let refused = try await ended(try await client.openSigningSession(
            SigningSessionRequest(role: .leader, documents: ids, reader: reader, openedBy: "SigningSessionDaemonTests"), pin: &wrong), client)
        XCTAssertEqual(refused.phase, .stopped)
        XCTAssertEqual(refused.stopCode, "wrong_pin")
        XCTAssertTrue(refused.stopMessage?.contains("2 tries left") == true, refused.stopMessage ?? "no message")
        XCTAssertFalse(refused.results.contains { $0.outcome == .signed }, "\(refused.results)")
        XCTAssertEqual(try triesOnTheCard(), 2, "a wrong PIN costs exactly one try")

        // The right PIN, naming all three: only the one still waiting is signed.
        var right = Array(VirtualCard.pin.utf8)
        let session = try await ended(try await client.openSigningSession(
            SigningSessionRequest(role: .leader, documents: ids, reader: reader, openedBy: "SigningSessionDaemonTests"), pin: &right), client)
        XCTAssertEqual(session.phase, .finished, session.stopMessage ?? "")
        XCTAssertEqual(session.results.map(\.outcome), [.refused, .refused, .signed], "\(session.results)")
        XCTAssertEqual(try triesOnTheCard(), 3, "the right PIN restores the counter")

        for (id, state) in [(ids[0], DocumentState.returned), (ids[1], .withdrawn)] {
            let view = try await client.show(id.description)
            XCTAssertEqual(view.document.state, state)
            XCTAssertEqual(view.document.version, 0)
            XCTAssertEqual(view.signatures ?? [], [])
            XCTAssertFalse(FileManager.default.fileExists(atPath: daemon.dataDirectory + "/store/objects/\(id).v1"))
        }
        let signed = try await client.show(ids[2].description)
        XCTAssertEqual(signed.document.state, .awaitingSeal)
        XCTAssertEqual(signed.document.version, 1)
        XCTAssertEqual(signed.signatures?.map(\.identity), ["CCCD:001085012345"])
    }
}
