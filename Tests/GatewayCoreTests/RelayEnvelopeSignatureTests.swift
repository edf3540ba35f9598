import DocumentModel
import DocumentSigning
import DurableFiles
import EdXML
import Foundation
import Logging
import TestSupport
import XCTest
@testable import GatewayCore

/// The box's key and certificate as `[upstream] key` / `certificate` hold them: a P-256 TLS client
/// certificate whose CN is the commune's code, issued by a test CA (openssl).
struct BoxPKI {
    let pki: TestPKI
    let key: TestPKI.Signer

    init(directory: String, code: String = "000.00.20.H13") throws {
        pki = try TestPKI(directory: directory, name: "relay-ca", subject: "/CN=Relay test CA/O=Sở TT&TT (thử nghiệm)")
        key = try pki.issue("box", subject: "/CN=\(code)/O=UBND xã Hòa Tiến", key: .p256, extensions: """
            keyUsage=critical,digitalSignature
            extendedKeyUsage=clientAuth

            """)
    }
}

/// Issue 13: every envelope the relay sends carries an XML signature that verifies — documents
/// that arrived signed, the 01 status and the clerks' statuses under the box's key, a document
/// sealed on the box under the signer its seal session gives — judged by the project's own
/// verifier against the test CA. (`RelayEndToEndTests` has xmlsec1 judge what hubd stored.)
final class RelayEnvelopeSignatureTests: XCTestCase {
    var fixture: StoreFixture!
    var box: BoxPKI!
    let hub = InMemoryHub()
    var context: RelayContext!

    override func setUpWithError() throws {
        fixture = try StoreFixture()
        box = try BoxPKI(directory: fixture.directory)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let settings = RelayService.Settings(agencyCode: AgencyCode("000.00.20.H13")!, agencyName: "UBND xã Hòa Tiến",
                                             inboxFolder: fixture.directory + "/inbox")
        context = RelayContext(settings: settings, store: fixture.store, hub: hub,
                               boxSigner: try RelayContext.boxSigner(keyFile: box.key.key, certificateFile: box.key.chain),
                               checkReceipt: InMemoryHub.checkReceipt, logger: logger)
    }

    override func tearDown() { fixture.close() }

    /// A document with what a package needs; `signed`: it arrived signed (else it waits for a
    /// signature on the box).
    func submit(number: String, signed: Bool) async throws -> DocumentRecord {
        let staged = try fixture.store.beginDocument(expectedSize: 2_000)
        try staged.append(randomBytes(2_000))
        let metadata = DocumentMetadata(recipients: [AgencyCode("000.00.00.H41")!], subject: "Về việc phòng chống bão số 9",
                                        number: number, notation: "QĐ-UBND", priority: .normal, signed: signed)
        return try await fixture.store.commit(staged, IntakeRequest(fileName: "quyết định \(number).pdf", metadata: metadata, source: .api,
                                                                   intakeKey: nil, cause: "test")).document
    }

    /// The signatures of the package at `path`, checked by the EdXML reader against the test CA.
    func signatures(_ path: String) async throws -> [SignatureCheck] {
        let roots = try DocumentVerifier.trustAnchors(pemFile: box.pki.root)
        let read = try await PackageReader.read(path: path, checkSignatures: true, trustRoots: roots)
        return try XCTUnwrap(read.signatures)
    }

    /// One signature, valid, its chain trusted, made by the certificate whose CN is `signerCN`.
    func assertSignedBy(_ signerCN: String, _ path: String, file: StaticString = #filePath, line: UInt = #line) async throws {
        let checks = try await signatures(path)
        XCTAssertEqual(checks.count, 1, "one enveloped signature: \(checks)", file: file, line: line)
        XCTAssertEqual(checks.first?.outcome, .valid, "\(checks)", file: file, line: line)
        XCTAssertEqual(checks.first?.trust, .trusted, "\(checks)", file: file, line: line)
        XCTAssertTrue(checks.first?.signer?.contains("CN=\(signerCN)") == true, checks.first?.signer ?? "no signer", file: file, line: line)
    }

    func testDocumentThatArrivedSignedIsSentUnderTheBoxKey() async throws {
        let document = try await submit(number: "125", signed: true)
        XCTAssertEqual(document.state, .signed)
        await PackagingService(context: context).queueArrivedSigned()
        XCTAssertEqual(try fixture.store.document(document.id)?.state, .queued)
        let path = fixture.layout.packagePath(document.id)
        try await assertSignedBy("000.00.20.H13", path)

        // What goes to the hub is that file, signature included.
        await UploadService(context: context).send(document.id, worker: .general)
        XCTAssertEqual(try fixture.store.document(document.id)?.state, .delivered)
        XCTAssertEqual(hub.snapshot.stored, [try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))])
    }

    /// A document signed on the box is the seal session's to queue, under the organization's
    /// token (here a key file standing in for it): the box-key loop leaves it alone.
    func testDocumentSealedOnTheBoxIsQueuedUnderTheSignerTheSessionGives() async throws {
        let document = try await submit(number: "126", signed: false)
        XCTAssertEqual(document.state, .awaitingLeader)
        try fixture.store.transition(document.id, to: .awaitingSeal, cause: "signed by the leader (test)")
        try fixture.store.transition(document.id, to: .signed, cause: "sealed on the box (test)")
        let packaging = PackagingService(context: context)
        await packaging.queueArrivedSigned()
        XCTAssertEqual(try fixture.store.document(document.id)?.state, .signed, "not the box key's to sign")
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.layout.packagePath(document.id)))

        let organization = try box.pki.issue("organization", subject: "/CN=UBND xã Hòa Tiến/O=UBND xã Hòa Tiến/UID=MST:3500000000", key: .p256)
        let token = try RelayContext.boxSigner(keyFile: organization.key, certificateFile: organization.chain)
        let outcome = await packaging.queue(document.id, signer: token)
        guard case .queued(let sha256, _) = outcome else { return XCTFail("\(String(describing: outcome))") }
        XCTAssertEqual(try fixture.store.document(document.id)?.state, .queued)
        XCTAssertEqual(try fixture.store.outbound(document.id)?.packageSHA256, sha256)
        try await assertSignedBy("UBND xã Hòa Tiến", fixture.layout.packagePath(document.id))

        // Asked again (a retried session), nothing is rewritten under the recorded digest.
        let again = await packaging.queue(document.id, signer: context.boxSigner)
        XCTAssertEqual(again, .notSigned(.queued))
        XCTAssertEqual(try POSIXFile.sha256(ofFile: fixture.layout.packagePath(document.id)).sha256, sha256)
    }

    func testArrivalStatusAndClerkStatusAreSignedWithTheBoxKey() async throws {
        // An incoming document as the inbox stores it: a package from the province, unsigned.
        let original = try await submit(number: "9", signed: true)
        let province = OutboundPackager(agencyCode: AgencyCode("000.00.00.H41")!, agencyName: "UBND tỉnh Quảng Trị")
        let hubID: Int64 = 7
        try await PackageWriter.write(try province.package(for: original, now: Date()), attachmentFiles: [fixture.layout.objectPath(original.id, version: original.version)],
                                      to: fixture.layout.inboxPath(hubID: hubID))
        var record = InboundRecord(hubID: hubID, kind: "document", packageKey: "000.00.00.H41,x", sender: "000.00.00.H41", sha256: "", size: 0,
                                   storedAt: Date(), ackedAt: Date(), statusSentAt: nil, statusReceipt: nil, folder: nil)
        try fixture.store.saveInbound(record)

        try await InboxService(context: context).sendArrivalStatus(&record)
        let arrival = fixture.layout.arrivalStatusPath(hubID: hubID)
        try await assertSignedBy("000.00.20.H13", arrival)
        XCTAssertNotNil(record.statusSentAt)

        let statuses = ClerkStatusService(context: context)
        let registered = try await statuses.record(hubID: hubID, code: "03", description: "Đã vào sổ", staff: "Lê Thị Văn Thư")
        try await assertSignedBy("000.00.20.H13", fixture.layout.inboxDirectory + "/" + registered.packageFile)
        var failures = 0
        _ = await statuses.sendPending(failures: &failures)

        // The hub got both, byte for byte the signed files.
        let sent = try [arrival, fixture.layout.inboxDirectory + "/" + registered.packageFile]
            .map { try [UInt8](Data(contentsOf: URL(fileURLWithPath: $0))) }
        XCTAssertEqual(hub.snapshot.stored, sent)
    }

    /// A box whose key does not match its certificate: the relay does not start (it would
    /// otherwise have to send envelopes unsigned), and says which files.
    func testMismatchedBoxKeyIsRefusedAtStart() throws {
        let other = try box.pki.issue("other", subject: "/CN=000.00.20.H13", key: .p256)
        XCTAssertThrowsError(try RelayContext.boxSigner(keyFile: other.key, certificateFile: box.key.chain)) { error in
            let relayError = error as? RelayError
            XCTAssertEqual(relayError?.code, .boxCertificate)
            XCTAssertTrue(relayError?.message.contains(box.key.chain) == true, relayError?.message ?? "\(error)")
        }
    }
}
