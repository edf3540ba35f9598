import DocumentModel
import DocumentSigning
import DurableFiles
import Foundation
import Logging
import SigningPolicy
import TestSupport
import X509
import XCTest
@testable import GatewayCore

/// The signing stage over key-file tokens (`KeyFileTokens`) and a real store: sessions, the
/// order of signatures, refusals that change nothing, PIN and token failures that stop a session,
/// versions and the register. Certificates are issued by openssl (TestPKI) with the subjects
/// Vietnamese CAs use: a leader's CCCD in UID, the commune's MST.
final class SigningStageTests: XCTestCase {
    var fixture: StoreFixture!
    var pki: TestPKI!
    var directory: String!
    static let leaderIdentity = "CCCD:001085012345"

    override func setUp() async throws {
        fixture = try StoreFixture()
        directory = fixture.directory + "/pki"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        pki = try TestPKI(directory: directory)
    }

    override func tearDown() async throws { fixture.close() }

    func card(_ name: String, subject: String, days: Int = 10) throws -> KeyFileTokens.Card {
        let issued = try pki.issue(name, subject: subject, key: .p256, days: days)
        return KeyFileTokens.Card(key: issued.key, chain: issued.chain)
    }

    func leaderCard(days: Int = 10) throws -> KeyFileTokens.Card {
        try card("leader-\(days)", subject: "/UID=\(Self.leaderIdentity)/CN=Nguyễn Văn An/O=UBND xã Hòa Tiến/C=VN", days: days)
    }

    func organizationCard() throws -> KeyFileTokens.Card {
        try card("organization", subject: "/UID=MST:0101234567/CN=UBND xã Hòa Tiến/O=UBND xã Hòa Tiến/C=VN")
    }

    var settings: SigningSettings {
        var settings = SigningSettings()
        settings.leaders = [ConfiguredLeader(name: "Nguyễn Văn An", title: "CHỦ TỊCH", identity: SubjectIdentifier(Self.leaderIdentity)!)]
        settings.agency = SigningAgency(code: AgencyCode("000.00.20.H14"), name: "UBND xã Hòa Tiến", taxCode: "0101234567")
        settings.defaultNotation = "QĐ-UBND"
        return settings
    }

    func stage(_ tokens: KeyFileTokens, settings: SigningSettings? = nil, synchronised: Bool? = true,
               checkCertificate: @escaping @Sendable ([Certificate]) async -> CertificateStanding = { _ in .unchecked }) -> SigningStage {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return SigningStage(store: fixture.store, tokens: tokens, settings: settings ?? self.settings,
                            environment: SigningEnvironment(clockSynchronised: { synchronised }, checkCertificate: checkCertificate), logger: logger)
    }

    func pin(_ text: String = TestSecrets.value("pin.key-file-token")) -> SessionPIN {
        var bytes = Array(text.utf8)
        return SessionPIN(consuming: &bytes)
    }

    func submit(_ text: String, signatures: [SigningRole] = [.leader, .organization], number: String? = nil) async throws -> DocumentID {
        let staged = try fixture.store.beginDocument(expectedSize: nil)
        try staged.append(SamplePDF.bytes(text))
        return try await fixture.store.commit(staged, IntakeRequest(
            fileName: "\(text).pdf",
            metadata: DocumentMetadata(recipients: StoreFixture.recipients, subject: "Về việc \(text)", number: number, signatures: signatures),
            source: .api, intakeKey: nil, cause: "test")).document.id
    }

    /// Opens a session and waits for its end.
    func run(_ stage: SigningStage, _ role: SigningRole, reader: String, documents: [DocumentID] = [], pin: SessionPIN? = nil,
             confirmLastTry: Bool = false) async throws -> SigningSessionStatus {
        let opened = try await stage.open(SigningSessionRequest(role: role, documents: documents, reader: reader, confirmLastTry: confirmLastTry,
                                                                openedBy: "test"), pin: pin ?? self.pin())
        var status = opened
        while status.phase == .signing {
            status = await stage.status(opened.id, after: status.results.count, until: .now + .seconds(60))!
        }
        return status
    }

    func refusal(_ body: () async throws -> SigningSessionStatus) async -> SigningSessionRefusal? {
        do {
            let status = try await body()
            XCTFail("opened: \(status)")
            return nil
        } catch let refusal as SigningSessionRefusal {
            return refusal
        } catch {
            XCTFail("\(error)")
            return nil
        }
    }

    // MARK: The flow

    func testLeaderThenSealMakesTwoVersionsAndNumberOneOfTheYear() async throws {
        let tokens = KeyFileTokens(["leader": try leaderCard(), "seal": try organizationCard()])
        let stage = stage(tokens)
        let id = try await submit("họp giao ban")
        XCTAssertEqual(try fixture.store.document(id)?.state, .awaitingLeader)

        let leader = try await run(stage, .leader, reader: "leader")
        XCTAssertEqual(leader.phase, .finished)
        XCTAssertEqual(leader.results.map(\.outcome), [.signed])
        XCTAssertEqual(leader.signer, "Nguyễn Văn An")
        XCTAssertEqual(leader.identity, Self.leaderIdentity)
        var record = try XCTUnwrap(try fixture.store.document(id))
        XCTAssertEqual(record.state, .awaitingSeal)
        XCTAssertEqual(record.version, 1)

        let seal = try await run(stage, .organization, reader: "seal")
        XCTAssertEqual(seal.results.map(\.outcome), [.signed])
        XCTAssertEqual(seal.results.first?.number, "01/QĐ-UBND")
        record = try XCTUnwrap(try fixture.store.document(id))
        XCTAssertEqual(record.state, .signed)
        XCTAssertEqual(record.version, 2)
        XCTAssertEqual(record.registerNumber?.number, 1)
        XCTAssertEqual(try POSIXFile.sha256(ofFile: fixture.layout.objectPath(id, version: 2)).sha256, record.sha256)
        for version in 0...1 { XCTAssertTrue(FileManager.default.fileExists(atPath: fixture.layout.objectPath(id, version: version)), "version \(version) kept") }

        let signatures = try fixture.store.signatures(id)
        XCTAssertEqual(signatures.map(\.role), [.leader, .organization])
        XCTAssertEqual(signatures.map(\.version), [1, 2])
        XCTAssertEqual(signatures.map(\.identity), [Self.leaderIdentity, "MST:0101234567"])
        XCTAssertEqual(signatures.map(\.revocation), ["not-checked", "not-checked"])
        XCTAssertEqual(try fixture.store.history(id).map(\.toState), [.received, .awaitingLeader, .awaitingSeal, .awaitingSeal, .signed])

        // Both signatures hold in the final version: the leader's is intact after the seal.
        let report = try await DocumentVerifier.verify(path: fixture.layout.objectPath(id, version: 2),
                                                       trustRoots: try DocumentVerifier.trustAnchors(pemFile: pki.root))
        XCTAssertEqual(report.signatures.count, 2)
        XCTAssertTrue(report.allValid, "\(report.signatures.map { ($0.verdict, $0.checks.filter { $0.outcome != .passed }) })")
    }

    /// A PDF the leader signed elsewhere, submitted as `"signed": true`: the door's check turns it
    /// into "needs the seal" (issue 14), and the seal session seals it with both signatures holding.
    func testALeadersSignedPDFFromOutsideIsSealedInTheSealSession() async throws {
        let leader = try pki.issue("leader-outside", subject: "/UID=\(Self.leaderIdentity)/CN=Nguyễn Văn An/O=UBND xã Hòa Tiến/C=VN", key: .p256)
        let path = directory + "/signed-elsewhere.pdf"
        try await SignedSamplePDF.write(path, text: "To trinh", signedBy: [leader])
        let anchors = try DocumentVerifier.trustAnchors(pemFile: pki.root)
        var metadata = DocumentMetadata(recipients: StoreFixture.recipients, subject: "Về việc tờ trình", signed: true)
        _ = try await SignedClaimCheck(anchors: anchors, revocation: nil, leaders: settings.leaders, agency: settings.agency)
            .admit(&metadata, document: .init(path: path, name: "Tờ trình.pdf"), attachments: [])
        let staged = try fixture.store.beginDocument(expectedSize: nil)
        try staged.append(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        let id = try await fixture.store.commit(staged, IntakeRequest(fileName: "Tờ trình.pdf", metadata: metadata, source: .api,
                                                                      intakeKey: nil, cause: "test")).document.id
        XCTAssertEqual(try fixture.store.document(id)?.state, .awaitingSeal)

        let seal = try await run(stage(KeyFileTokens(["seal": try organizationCard()])), .organization, reader: "seal")
        XCTAssertEqual(seal.results.map(\.outcome), [.signed], "\(seal.results)")
        XCTAssertEqual(try fixture.store.document(id)?.state, .signed)
        let report = try await DocumentVerifier.verify(path: fixture.layout.objectPath(id, version: 1), trustRoots: anchors)
        XCTAssertEqual(report.signatures.compactMap { $0.signer.map(IncomingVerifier.displayName) },
                       ["Nguyễn Văn An (CCCD:001085012345)", "UBND xã Hòa Tiến (MST:0101234567)"])
        XCTAssertTrue(report.allValid, "\(report.signatures.map { ($0.verdict, $0.checks.filter { $0.outcome != .passed }) })")
    }

    func testRegisterGivesNumbersInOrderAndKeepsAGivenOne() async throws {
        let tokens = KeyFileTokens(["seal": try organizationCard()])
        let stage = stage(tokens)
        let first = try await submit("một", signatures: [.organization])
        let given = try await submit("hai", signatures: [.organization], number: "7")
        let third = try await submit("ba", signatures: [.organization])
        let status = try await run(stage, .organization, reader: "seal")
        XCTAssertEqual(status.results.map(\.number), ["01/QĐ-UBND", "07/QĐ-UBND", "08/QĐ-UBND"])
        XCTAssertEqual(try fixture.store.register(year: OutgoingRegister.year(of: Date())).map(\.document), [first, given, third])
    }

    // MARK: Refusals change nothing

    func testSealBeforeLeaderIsRefusedForThatDocumentAndTheBatchGoesOn() async throws {
        let tokens = KeyFileTokens(["seal": try organizationCard()])
        let needsLeader = try await submit("cần lãnh đạo ký")
        let sealOnly = try await submit("chỉ đóng dấu", signatures: [.organization])
        let before = try fixture.snapshot()
        let status = try await run(stage(tokens), .organization, reader: "seal", documents: [needsLeader, sealOnly])
        XCTAssertEqual(status.phase, .finished)
        XCTAssertEqual(status.results.map(\.outcome), [.refused, .signed])
        XCTAssertTrue(status.results[0].message?.contains("lãnh đạo") ?? false, "\(status.results[0])")
        XCTAssertEqual(try fixture.snapshot().first { $0.hasPrefix(needsLeader.description) }, before.first { $0.hasPrefix(needsLeader.description) })
        XCTAssertNil(try fixture.store.document(needsLeader)?.registerNumber, "no number for a refused seal")
    }

    func testLeaderSessionRefusesTheOrganizationsTokenBeforeAnyPIN() async throws {
        let tokens = KeyFileTokens(["seal": try organizationCard()])
        _ = try await submit("một")
        let before = try fixture.snapshot()
        let refusal = await refusal { try await self.run(self.stage(tokens), .leader, reader: "seal") }
        XCTAssertEqual(refusal?.code, SigningRefusal.Code.organizationInLeaderSession.rawValue)
        XCTAssertEqual(tokens.card("seal")?.pinChecks, 0, "no PIN try spent")
        XCTAssertEqual(try fixture.snapshot(), before)
    }

    func testSealSessionRefusesAPersonsToken() async throws {
        let tokens = KeyFileTokens(["leader": try leaderCard()])
        let refusal = await refusal { try await self.run(self.stage(tokens), .organization, reader: "leader") }
        XCTAssertEqual(refusal?.code, SigningRefusal.Code.personInSealSession.rawValue)
    }

    func testLeaderNotConfiguredIsRefused() async throws {
        let tokens = KeyFileTokens(["other": try card("other", subject: "/UID=CCCD:079999999999/CN=Trần Thị Bình/C=VN")])
        _ = try await submit("một")
        let refusal = await refusal { try await self.run(self.stage(tokens), .leader, reader: "other") }
        XCTAssertEqual(refusal?.code, SigningRefusal.Code.leaderNotConfigured.rawValue)
        XCTAssertEqual(tokens.card("other")?.pinChecks, 0)
    }

    /// The console's lãnh đạo account is bound to one leader: another configured leader's token
    /// is refused before any PIN try, and the account's own token signs.
    func testAnotherLeadersTokenIsRefusedBeforeAnyPINWhenTheIdentityIsExpected() async throws {
        let other = try card("other", subject: "/UID=CCCD:079999999999/CN=Trần Thị Bình/C=VN")
        let tokens = KeyFileTokens(["other": other, "leader": try leaderCard()])
        var settings = self.settings
        settings.leaders.append(ConfiguredLeader(name: "Trần Thị Bình", title: "PHÓ CHỦ TỊCH", identity: SubjectIdentifier("CCCD:079999999999")!))
        let stage = stage(tokens, settings: settings)
        let id = try await submit("một")
        let before = try fixture.snapshot()
        let refusal = await refusal {
            try await stage.open(SigningSessionRequest(role: .leader, reader: "other", openedBy: "an", expectedIdentity: Self.leaderIdentity),
                                 pin: self.pin())
        }
        XCTAssertEqual(refusal?.code, "not_your_token")
        XCTAssertTrue(refusal?.message.contains("Trần Thị Bình") ?? false, "\(String(describing: refusal))")
        XCTAssertEqual(tokens.card("other")?.pinChecks, 0, "no PIN try spent")
        XCTAssertEqual(try fixture.snapshot(), before)
        let opened = try await stage.open(SigningSessionRequest(role: .leader, reader: "leader", openedBy: "an", expectedIdentity: Self.leaderIdentity),
                                          pin: pin())
        var status = opened
        while status.phase == .signing { status = await stage.status(opened.id, after: status.results.count, until: .now + .seconds(60))! }
        XCTAssertEqual(status.results.map(\.outcome), [.signed])
        XCTAssertEqual(try fixture.store.document(id)?.state, .awaitingSeal)
    }

    func testExpiredCertificateIsRefused() async throws {
        let tokens = KeyFileTokens(["leader": try leaderCard(days: -1)])
        _ = try await submit("một")
        let before = try fixture.snapshot()
        let refusal = await refusal { try await self.run(self.stage(tokens), .leader, reader: "leader") }
        XCTAssertEqual(refusal?.code, SigningRefusal.Code.expired.rawValue)
        XCTAssertEqual(try fixture.snapshot(), before)
    }

    func testUnsynchronisedClockIsRefusedUnlessTheLocalClockIsTrusted() async throws {
        let tokens = KeyFileTokens(["leader": try leaderCard()])
        _ = try await submit("một")
        let refusal = await refusal { try await self.run(self.stage(tokens, synchronised: false), .leader, reader: "leader") }
        XCTAssertEqual(refusal?.code, SigningRefusal.Code.clockNotSynchronised.rawValue)
        let unknown = await self.refusal { try await self.run(self.stage(tokens, synchronised: nil), .leader, reader: "leader") }
        XCTAssertEqual(unknown?.code, SigningRefusal.Code.clockStateUnknown.rawValue)
        var trusting = settings
        trusting.clock = .trustLocalClock
        let status = try await run(stage(tokens, settings: trusting, synchronised: false), .leader, reader: "leader")
        XCTAssertEqual(status.results.map(\.outcome), [.signed])
    }

    func testDocumentAlreadySignedInTheRoleIsRefused() async throws {
        let tokens = KeyFileTokens(["leader": try leaderCard()])
        let stage = stage(tokens)
        let id = try await submit("một")
        _ = try await run(stage, .leader, reader: "leader")
        let again = try await run(stage, .leader, reader: "leader", documents: [id])
        XCTAssertEqual(again.results.map(\.outcome), [.refused])
        XCTAssertEqual(try fixture.store.document(id)?.version, 1)
    }

    func testReturnedAndWithdrawnDocumentsAreNotSigned() async throws {
        let tokens = KeyFileTokens(["leader": try leaderCard()])
        let returned = try await submit("trả lại")
        let withdrawn = try await submit("rút lại")
        try fixture.store.act(on: returned, to: .returned, cause: "lãnh đạo trả lại: sửa trích yếu", at: Date())
        try fixture.store.act(on: withdrawn, to: .withdrawn, cause: "văn thư rút lại", at: Date())
        XCTAssertThrowsError(try fixture.store.act(on: withdrawn, to: .returned, cause: "x", at: Date()))
        let waiting = try await run(stage(tokens), .leader, reader: "leader")
        XCTAssertEqual(waiting.total, 0, "neither waits for the leader")
        let named = try await run(stage(tokens), .leader, reader: "leader", documents: [returned, withdrawn])
        XCTAssertEqual(named.results.map(\.outcome), [.refused, .refused])
        XCTAssertEqual(try fixture.store.document(returned)?.stateReason, "lãnh đạo trả lại: sửa trích yếu")
    }

    func testTheClerkReplacesAReturnedDocumentAndItGoesBackInLineButNotOnceSigned() async throws {
        let tokens = KeyFileTokens(["leader": try leaderCard()])
        let stage = stage(tokens)
        let returned = try await submit("trả lại rồi thay")
        try fixture.store.act(on: returned, to: .returned, cause: "lãnh đạo trả lại", at: Date())
        let staged = try fixture.store.beginDocument(expectedSize: nil)
        try staged.append(SamplePDF.bytes("bản đã sửa"))
        let replaced = try await fixture.store.replaceContent(returned, with: staged, cause: "văn thư thay tệp", at: Date())
        XCTAssertEqual(replaced.state, .awaitingLeader)
        XCTAssertEqual(replaced.version, 1)
        XCTAssertTrue(FileManager.default.fileExists(atPath: fixture.layout.objectPath(returned, version: 0)), "the first file is kept")
        let signed = try await run(stage, .leader, reader: "leader", documents: [returned])
        XCTAssertEqual(signed.results.map(\.outcome), [.signed])
        XCTAssertEqual(try fixture.store.document(returned)?.version, 2)

        // Signed by the leader, then returned at the seal: its file can no longer be replaced.
        try fixture.store.act(on: returned, to: .returned, cause: "văn thư trả lại", at: Date())
        let another = try fixture.store.beginDocument(expectedSize: nil)
        try another.append(SamplePDF.bytes("lại sửa"))
        do {
            try await fixture.store.replaceContent(returned, with: another, cause: "x", at: Date())
            XCTFail("replaced a signed document")
        } catch let error as SigningStoreError {
            XCTAssertEqual(error, .alreadySigned(returned))
        }
        XCTAssertEqual(try fixture.store.document(returned)?.version, 2)
        XCTAssertTrue(try fixture.temporaryFiles().isEmpty)
    }

    func testAMainDocumentThatIsNotAPDFWaitsWithItsReasonUntilReplaced() async throws {
        let tokens = KeyFileTokens(["leader": try leaderCard()])
        let staged = try fixture.store.beginDocument(expectedSize: nil)
        try staged.append(Array("Quyết định (bản Word)".utf8))
        let id = try await fixture.store.commit(staged, IntakeRequest(
            fileName: "Quyết định.docx", metadata: DocumentMetadata(recipients: StoreFixture.recipients, subject: "Word"),
            source: .api, intakeKey: nil, cause: "test")).document.id
        var record = try XCTUnwrap(try fixture.store.document(id))
        XCTAssertEqual(record.state, .awaitingLeader)
        XCTAssertTrue(record.stateReason?.contains("không phải PDF") ?? false, "\(record.stateReason ?? "no reason")")

        let refused = try await run(stage(tokens), .leader, reader: "leader")
        XCTAssertEqual(refused.results.map(\.outcome), [.refused])
        XCTAssertEqual(refused.results.first?.message, record.stateReason)

        let pdf = try fixture.store.beginDocument(expectedSize: nil)
        try pdf.append(SamplePDF.bytes("Quyết định"))
        record = try await fixture.store.replaceContent(id, with: pdf, cause: "văn thư thay bằng PDF", at: Date())
        XCTAssertNil(record.stateReason)
        XCTAssertNil(try fixture.store.document(id)?.stateReason)
        let signed = try await run(stage(tokens), .leader, reader: "leader")
        XCTAssertEqual(signed.results.map(\.outcome), [.signed])
    }

    func testADocumentThatCannotBeSignedIsMarkedAndTheBatchGoesOn() async throws {
        let tokens = KeyFileTokens(["leader": try leaderCard()])
        let broken = try await submit("hỏng")
        let good = try await submit("tốt")
        // Damaged on disk after intake (intake refuses a PDF that does not parse).
        try Data("%PDF-1.7\nnot a PDF any more".utf8).write(to: URL(fileURLWithPath: fixture.layout.objectPath(broken, version: 0)))
        let status = try await run(stage(tokens), .leader, reader: "leader")
        XCTAssertEqual(status.phase, .finished)
        XCTAssertEqual(status.results.map(\.outcome), [.refused, .signed])
        let record = try XCTUnwrap(try fixture.store.document(broken))
        XCTAssertEqual(record.state, .awaitingLeader)
        XCTAssertEqual(record.version, 0)
        XCTAssertTrue(record.stateReason?.contains("could not be signed") ?? false, "\(record.stateReason ?? "no reason")")
        XCTAssertEqual(try fixture.store.history(broken).last.map { [$0.fromState, $0.toState] }, [.awaitingLeader, .awaitingLeader])
        XCTAssertEqual(try fixture.store.document(good)?.state, .awaitingSeal)
    }

    // MARK: The certificate against [trust]

    func testACertificateThatDoesNotChainToTheAnchorsSignsNothing() async throws {
        let tokens = KeyFileTokens(["leader": try leaderCard()])
        _ = try await submit("một")
        let ours = try DocumentVerifier.trustAnchors(pemFile: pki.root)
        let otherDirectory = directory + "/other"
        try FileManager.default.createDirectory(atPath: otherDirectory, withIntermediateDirectories: true)
        let other = try DocumentVerifier.trustAnchors(pemFile: try TestPKI(directory: otherDirectory).root)

        let before = try fixture.snapshot()
        let refusal = await refusal {
            try await self.run(self.stage(tokens, checkCertificate: { chain in
                await CertificateStanding.check(chain: chain, anchors: other, fetcher: nil, now: Date())
            }), .leader, reader: "leader")
        }
        XCTAssertEqual(refusal?.code, "certificate-chain")
        XCTAssertTrue(refusal?.message.contains("gốc tin cậy") ?? false, "\(refusal?.message ?? "")")
        XCTAssertEqual(tokens.card("leader")?.pinChecks, 0)
        XCTAssertEqual(try fixture.snapshot(), before)

        let status = try await run(stage(tokens, checkCertificate: { chain in
            await CertificateStanding.check(chain: chain, anchors: ours, fetcher: nil, now: Date())
        }), .leader, reader: "leader")
        XCTAssertEqual(status.results.map(\.outcome), [.signed])
        XCTAssertFalse(status.warnings.contains { $0.contains("[trust]") }, "the chain was checked: \(status.warnings)")
    }

    func testRevocationAsFoundRevokedRefusesUnknownIsRecordedAsUnknown() async throws {
        let tokens = KeyFileTokens(["leader": try leaderCard()])
        let id = try await submit("một")
        let revoked = await refusal {
            try await self.run(self.stage(tokens, checkCertificate: { _ in CertificateStanding(revocation: .revoked(reason: "keyCompromise")) }),
                               .leader, reader: "leader")
        }
        XCTAssertEqual(revoked?.code, SigningRefusal.Code.revoked.rawValue)
        let status = try await run(stage(tokens, checkCertificate: { _ in CertificateStanding(revocation: .unknown(reason: "OCSP unreachable")) }),
                                   .leader, reader: "leader")
        XCTAssertEqual(status.results.map(\.outcome), [.signed])
        XCTAssertTrue(status.warnings.contains { $0.contains("OCSP unreachable") }, "\(status.warnings)")
        XCTAssertEqual(try fixture.store.signatures(id).map(\.revocation), ["unknown"], "never recorded as good")
    }

    // MARK: PIN and token

    func testWrongPINCostsOneTryAndStopsTheSession() async throws {
        let tokens = KeyFileTokens(["leader": try leaderCard()])
        let ids = [try await submit("một"), try await submit("hai")]
        let pin = pin(TestSecrets.value("pin.key-file-token-wrong"))
        let status = try await run(stage(tokens), .leader, reader: "leader", pin: pin)
        XCTAssertEqual(status.phase, .stopped)
        XCTAssertEqual(status.stopCode, "wrong_pin")
        XCTAssertEqual(status.results.map(\.outcome), [.notSigned, .notSigned])
        XCTAssertEqual(tokens.card("leader")?.triesLeft, 2, "exactly one try")
        for id in ids { XCTAssertEqual(try fixture.store.document(id)?.version, 0) }
        XCTAssertTrue(pin.withBytes { $0 == nil }, "the PIN is wiped when the session ends")
    }

    func testLastTryIsNotUsedWithoutConfirmation() async throws {
        var card = try leaderCard()
        card.triesLeft = 1
        let tokens = KeyFileTokens(["leader": card])
        _ = try await submit("một")
        let status = try await run(stage(tokens), .leader, reader: "leader")
        XCTAssertEqual(status.stopCode, "last_try_needs_confirmation")
        XCTAssertEqual(tokens.card("leader")?.triesLeft, 1)
        let confirmed = try await run(stage(tokens), .leader, reader: "leader", confirmLastTry: true)
        XCTAssertEqual(confirmed.results.map(\.outcome), [.signed])
    }

    func testTokenPulledMidBatchLeavesEachDocumentOnOneVersionAndTheNextSessionFinishes() async throws {
        var card = try leaderCard()
        card.pulledAfter = 3
        let tokens = KeyFileTokens(["leader": card])
        var ids: [DocumentID] = []
        for index in 1...8 { ids.append(try await submit("văn bản \(index)")) }
        let stage = stage(tokens)
        let first = try await run(stage, .leader, reader: "leader")
        XCTAssertEqual(first.stopCode, "token_removed")
        XCTAssertEqual(first.results.map(\.outcome), Array(repeating: .signed, count: 3) + Array(repeating: .notSigned, count: 5))
        XCTAssertTrue(try fixture.temporaryFiles().isEmpty, "no half-signed file left")
        tokens.cards.withLock { $0["leader"]?.pulledAfter = nil }
        let second = try await run(stage, .leader, reader: "leader")
        XCTAssertEqual(second.results.map(\.outcome), Array(repeating: .signed, count: 5))
        for id in ids {
            let record = try XCTUnwrap(try fixture.store.document(id))
            XCTAssertEqual(record.state, .awaitingSeal)
            XCTAssertEqual(record.version, 1)
        }
    }

    func testOneSessionAtATime() async throws {
        let tokens = KeyFileTokens(["leader": try leaderCard()])
        for index in 1...3 { _ = try await submit("văn bản \(index)") }
        let stage = stage(tokens)
        let opened = try await stage.open(SigningSessionRequest(role: .leader, reader: "leader", openedBy: "test"), pin: pin())
        var second: SigningSessionRefusal?
        do { _ = try await stage.open(SigningSessionRequest(role: .leader, reader: "leader", openedBy: "test"), pin: pin()) } catch {
            second = error
        }
        // The first may have finished already on a fast machine: then the second is allowed.
        if let second { XCTAssertEqual(second.code, "session_running") }
        var status = opened
        while status.phase == .signing { status = await stage.status(opened.id, after: status.results.count, until: .now + .seconds(60))! }
        XCTAssertEqual(status.phase, .finished)
    }
}
