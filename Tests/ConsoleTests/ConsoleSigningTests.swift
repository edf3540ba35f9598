import DocumentModel
import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Signing
import SigningPolicy
import Synchronization
import TestSupport
import X509
import XCTest
@testable import Console

/// The signing page's refusals in memory, over a real store and a real signing stage whose
/// tokens are key files (the cards themselves are driven by scripts/browser-test): the role, the
/// CSRF token, another leader's token refused before any PIN is used, a văn thư who cannot sign as
/// a leader, "return to the clerk" with its note, the PIN never echoed.
final class ConsoleSigningTests: XCTestCase {
    static let an = "CCCD:001085012345"
    static let binh = "CCCD:079999999999"

    /// Tokens over key files that count their signatures: each one would use the PIN, so a
    /// refusal must leave the count at 0.
    final class CountingTokens: SigningTokens {
        let cards: [String: (key: String, chain: String)]
        let signatures = Mutex(0)
        init(_ cards: [String: (key: String, chain: String)]) { self.cards = cards }

        func open(reader: String?, key: String?, pin: SessionPIN, confirmLastTry: Bool) async throws(SessionTokenFailure) -> any SessionToken {
            guard let reader, let card = cards[reader] else { throw .noToken(reader ?? "-") }
            do { return Token(reader: reader, inner: try SoftwareKeySigner(keyFile: card.key, chainFile: card.chain), tokens: self) } catch {
                throw .token("\(error)")
            }
        }

        /// PIN changes asked for, and the PIN a change must give as current (the test PIN); the
        /// last new PIN's bytes as they reached the tokens.
        let pinChanges = Mutex(0)
        let lastNewPIN = Mutex<[UInt8]?>(nil)
        func changePIN(reader: String?, key: String?, current: SessionPIN, new: SessionPIN, confirmLastTry: Bool) async throws(SessionTokenFailure) {
            guard let reader, cards[reader] != nil else { throw .noToken(reader ?? "-") }
            let expected = Array(TestSecrets.value("pin.key-file-token").utf8)
            guard current.withBytes({ $0.map(Array.init) == expected }) else { throw .wrongPIN(triesLeft: 2) }
            pinChanges.withLock { $0 += 1 }
            lastNewPIN.withLock { $0 = new.withBytes { $0.map(Array.init) } }
        }

        struct Token: SessionToken, Signer {
            let reader: String
            let inner: SoftwareKeySigner
            let tokens: CountingTokens
            var signer: any Signer { self }
            var location: String { reader }
            func close() {}
            var certificateChain: [Certificate] { inner.certificateChain }
            var keyType: SignerKeyType { inner.keyType }
            func sign(digest: [UInt8], algorithm: SignatureAlgorithm) async throws -> [UInt8] {
                tokens.signatures.withLock { $0 += 1 }
                return try await inner.sign(digest: digest, algorithm: algorithm)
            }
        }
    }

    var directory = ""
    let password = TestSecrets.value("password.console-other")
    let pin = TestSecrets.value("pin.key-file-token")

    override func setUp() {
        directory = NSTemporaryDirectory() + "console-signing-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    struct Rig: Sendable {
        let client: any TestClientProtocol
        let store: DocumentStore
        let tokens: CountingTokens
        let documents: [DocumentID]
    }

    func withSigning(_ test: @escaping @Sendable (Rig) async throws -> Void) async throws {
        let layout = StoreLayout(dataDirectory: directory + "/box")
        let store = try DocumentStore(layout: layout, limits: .init(), logger: Logger(label: "test"), ioPool: .singleton)
        let pki = try TestPKI(directory: directory)
        let mine = try pki.issue("an", subject: "/UID=\(Self.an)/CN=Nguyễn Văn An/C=VN", key: .p256)
        let other = try pki.issue("binh", subject: "/UID=\(Self.binh)/CN=Trần Thị Bình/C=VN", key: .p256)
        let seal = try pki.issue("seal", subject: "/UID=MST:0101234567/CN=UBND xã Hòa Tiến/O=UBND xã Hòa Tiến/C=VN", key: .p256)
        let tokens = CountingTokens(["mine": (mine.key, mine.chain), "other": (other.key, other.chain), "seal": (seal.key, seal.chain)])
        var settings = SigningSettings()
        settings.leaders = [ConfiguredLeader(name: "Nguyễn Văn An", title: "CHỦ TỊCH", identity: SubjectIdentifier(Self.an)!),
                            ConfiguredLeader(name: "Trần Thị Bình", title: "PHÓ CHỦ TỊCH", identity: SubjectIdentifier(Self.binh)!)]
        let stage = SigningStage(store: store, tokens: tokens, settings: settings,
                                 environment: SigningEnvironment(clockSynchronised: { true }), logger: Logger(label: "test"))
        let ca = BoxCA(layout: layout)
        try ca.prepare(names: ServerNames(dnsNames: ["localhost"], ipAddresses: [[127, 0, 0, 1]]), now: Date())
        let hash = Passwords.hash(password)
        for (login, role, identity) in [("admin", ConsoleRole.quanTri, nil), ("an", .lanhDao, Self.an), ("clerk", .vanThu, nil)] {
            try store.accounts.add(ConsoleUser(login: login, displayName: login, role: role, identity: identity, passwordHash: hash),
                                   audit: ConsoleAuditEntry(at: Date(), actor: "test", action: "user_add", subject: login))
        }
        var documents: [DocumentID] = []
        for subject in ["Quyết định <script>alert(1)</script>", "Thông báo"] {
            let staged = try store.beginDocument(expectedSize: nil)
            try staged.append(Array("%PDF-1.4\n% not a whole PDF: the page says its pages could not be read\n".utf8))
            documents.append(try await store.commit(staged, IntakeRequest(
                fileName: "\(subject).pdf", metadata: DocumentMetadata(recipients: [AgencyCode("000.00.20.H13")!], subject: subject,
                                                                       signatures: [.leader, .organization]),
                source: .api, intakeKey: nil, cause: "test")).document.id)
        }
        let status = TokenServiceStatus(pcscd: "ok", readers: ["mine", "other"], tokens: [
            TokenSummary(reader: "mine", model: "PIV", usbID: nil, atr: "", piv: true,
                         certificates: [.init(slot: "9c", subject: "CN=Nguyễn Văn An, UID=\(Self.an)", notAfter: Date() + 86400)],
                         pinTriesLeft: 3, pinBlocked: false, problem: nil, insertedAt: Date()),
        ])
        let server = ConsoleServer(accounts: store.accounts, rules: AccountRules(leaderIdentities: [Self.an, Self.binh]), setupCode: SetupCode(layout: layout),
                                   ca: ca, counts: { try store.countsByState() }, tokens: ConsoleRouterTests.FixedTokens(status: status),
                                   signing: SigningDesk(store: store, stage: stage), logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let application = Application(router: server.router())
        let documentIDs = documents
        try await application.test(.router) { client in
            try await test(Rig(client: client, store: store, tokens: tokens, documents: documentIDs))
        }
    }

    static func form(_ rig: Rig, reader: String, pin: String) -> [String: String] {
        var fields = ["pin": pin, "reader": reader]
        for id in rig.documents { fields["doc.\(id)"] = "1" }
        return fields
    }

    func testTheSigningPageRefusesWhatItMust() async throws {
        let (password, pin) = (password, pin)
        try await withSigning { rig in
            var nobody = ConsoleRouterTests.Browser(client: rig.client)
            do { let got = try await nobody.get("/signing").location; XCTAssertEqual(got, "/login") }
            do { let got = try await nobody.post("/signing", Self.form(rig, reader: "mine", pin: pin), csrf: "x").status; XCTAssertEqual(got, .forbidden) }

            var admin = ConsoleRouterTests.Browser(client: rig.client)
            try await ConsoleRouterTests.logIn(&admin, "admin", password)
            do { let got = try await admin.get("/signing").status; XCTAssertEqual(got, .forbidden, "a quản trị neither signs nor seals") }

            var leader = ConsoleRouterTests.Browser(client: rig.client)
            try await ConsoleRouterTests.logIn(&leader, "an", password)
            let page = try await leader.get("/signing")
            XCTAssertEqual(page.status, .ok)
            XCTAssertTrue(page.body.contains("<span id=\"waiting\">2</span>"), "the count in the header")
            XCTAssertTrue(page.body.contains("type=\"password\" autocomplete=\"off\""))
            XCTAssertTrue(page.body.contains("Quyết định &lt;script&gt;"), "the subject escaped")
            XCTAssertEqual(page.body.components(separatedBy: "<script>").count, 2, "one script, the page's own drag to move")
            XCTAssertTrue(page.body.contains("<script>\(SigningDrag.script)</script>"))
            XCTAssertTrue(page.body.contains("9c: Nguyễn Văn An — "), "the token's holder")

            // Without the form's token: refused, nothing opened.
            let forged = try await leader.post("/signing", Self.form(rig, reader: "mine", pin: pin), csrf: "forged")
            XCTAssertEqual(forged.status, .forbidden)

            // Another leader's token: refused before any PIN is used, the PIN not echoed.
            let others = try await leader.post("/signing", Self.form(rig, reader: "other", pin: pin))
            XCTAssertEqual(others.status, .unprocessableContent, others.body)
            XCTAssertTrue(others.body.contains("không phải của bạn"), others.body)
            XCTAssertFalse(others.body.contains(pin), "the PIN is never echoed")
            XCTAssertEqual(rig.tokens.signatures.withLock { $0 }, 0)
            for id in rig.documents { XCTAssertEqual(try rig.store.document(id)?.state, .awaitingLeader) }

            // A lãnh đạo's session is the leader's: the organization's token cannot seal in it.
            let sealing = try await leader.post("/signing", Self.form(rig, reader: "seal", pin: pin))
            XCTAssertEqual(sealing.status, .unprocessableContent, sealing.body)
            XCTAssertTrue(sealing.body.contains("không ký thay lãnh đạo được"), sealing.body)
            XCTAssertEqual(rig.tokens.signatures.withLock { $0 }, 0)

            // A văn thư seals, and cannot sign as the leader: the leader's token is refused in the seal's session.
            var clerk = ConsoleRouterTests.Browser(client: rig.client)
            try await ConsoleRouterTests.logIn(&clerk, "clerk", password)
            let clerkPage = try await clerk.get("/signing")
            XCTAssertTrue(clerkPage.body.contains("<span id=\"waiting\">0</span>"), clerkPage.body)
            var asLeader = Self.form(rig, reader: "mine", pin: pin)
            asLeader["role"] = "leader"  // ignored: the account's role decides, and a văn thư's session seals
            let refused = try await clerk.post("/signing", asLeader)
            XCTAssertEqual(refused.status, .unprocessableContent, refused.body)
            XCTAssertTrue(refused.body.contains("không đóng dấu của cơ quan được"), refused.body)
            XCTAssertEqual(rig.tokens.signatures.withLock { $0 }, 0)
            for id in rig.documents { XCTAssertEqual(try rig.store.document(id)?.state, .awaitingLeader) }
            do { let got = try await clerk.post("/signing/return", ["id": rig.documents[0].description, "note": "x"]).status
                 XCTAssertEqual(got, .forbidden, "only the leader returns a document") }

            // The leader returns one with a note (none: refused); the other stays.
            let noNote = try await leader.post("/signing/return", ["id": rig.documents[1].description, "note": "  "])
            XCTAssertEqual(noNote.status, .badRequest)
            let returned = try await leader.post("/signing/return", ["id": rig.documents[1].description, "note": "Thiếu số liệu thôn 3"])
            XCTAssertEqual(returned.location, "/signing?done=returned", returned.body)
            XCTAssertEqual(try rig.store.document(rig.documents[1])?.state, .returned)
            let after = try await leader.get("/signing?done=returned")
            XCTAssertTrue(after.body.contains("<span id=\"waiting\">1</span>"), after.body)

            // Someone else's session is not found.
            do { let got = try await clerk.get("/signing/sessions/S-none").status; XCTAssertEqual(got, .notFound) }
        }
    }

    /// A backlog (after the holidays, say) is listed a page at a time, the oldest first, with the
    /// count of all that wait: not thousands of rows and previews in one page.
    func testABacklogIsListedOldestFirstAPageAtATime() async throws {
        let password = password
        try await withSigning { rig in
            for index in 0..<ConsoleServer.signingPageLimit {
                let staged = try rig.store.beginDocument(expectedSize: nil)
                try staged.append(Array("%PDF-1.4\n% backlog \(index)\n".utf8))
                _ = try await rig.store.commit(staged, IntakeRequest(
                    fileName: "Tồn \(index).pdf", metadata: DocumentMetadata(recipients: [AgencyCode("000.00.20.H13")!], subject: "Tồn \(index)",
                                                                             signatures: [.leader, .organization]),
                    source: .api, intakeKey: nil, cause: "test"))
            }
            var leader = ConsoleRouterTests.Browser(client: rig.client)
            try await ConsoleRouterTests.logIn(&leader, "an", password)
            let page = try await leader.get("/signing")
            XCTAssertEqual(page.status, .ok)
            let waiting = ConsoleServer.signingPageLimit + 2
            XCTAssertTrue(page.body.contains("<span id=\"waiting\">\(waiting)</span>"), "the count in the header")
            XCTAssertEqual(page.body.components(separatedBy: "type=\"checkbox\" name=\"doc.").count - 1, ConsoleServer.signingPageLimit)
            XCTAssertTrue(page.body.contains("Tổng số đang chờ: \(waiting)"), "the note with the count")
            XCTAssertTrue(page.body.contains("doc.\(rig.documents[0])"), "the oldest first")
            XCTAssertFalse(page.body.contains("Tồn \(ConsoleServer.signingPageLimit - 1)<"), "the newest waits for the next page")
        }
    }

    /// "Đổi mã PIN": the holder changes their own token's PIN; a typing mistake costs no try, and
    /// nobody changes (and so risks locking) a token that is not theirs.
    func testTheTokensPINIsChangedByItsHolderOnly() async throws {
        let (password, pin) = (password, pin)
        // A CA token's PKCS#11 PIN may hold letters and be of any length the token allows: the
        // console passes it as typed (the token's backend judges it), and offers no keypad of digits.
        let newPIN = TestSecrets.value("pin.softhsm-letters")
        try await withSigning { rig in
            func form(_ reader: String, current: String, new: String = newPIN, again: String = newPIN) -> [String: String] {
                ["reader": reader, "current_pin": current, "new_pin": new, "new_pin_again": again]
            }
            var nobody = ConsoleRouterTests.Browser(client: rig.client)
            do { let got = try await nobody.get("/signing/pin").location; XCTAssertEqual(got, "/login") }
            var admin = ConsoleRouterTests.Browser(client: rig.client)
            try await ConsoleRouterTests.logIn(&admin, "admin", password)
            do { let got = try await admin.get("/signing/pin").status; XCTAssertEqual(got, .forbidden, "a quản trị holds no token") }

            var leader = ConsoleRouterTests.Browser(client: rig.client)
            try await ConsoleRouterTests.logIn(&leader, "an", password)
            let page = try await leader.get("/signing/pin")
            XCTAssertEqual(page.status, .ok)
            XCTAssertEqual(page.body.components(separatedBy: "type=\"password\"").count - 1, 3, "the current PIN and the new one twice")
            XCTAssertFalse(page.body.contains("inputmode"), "no digits-only keypad: a PKCS#11 PIN may hold letters")
            XCTAssertTrue(page.body.contains("token PIV dùng 6–8 chữ số") && page.body.contains("có thể nhận cả chữ cái"), page.body)
            let signingPage = try await leader.get("/signing")
            XCTAssertTrue(signingPage.body.contains("href=\"/signing/pin\""), "linked from the signing page")
            XCTAssertTrue(signingPage.body.contains("name=\"pin\" type=\"password\""), signingPage.body)
            XCTAssertFalse(signingPage.body.contains("inputmode"), "the signing form's PIN field has no digits-only keypad either")

            do { let got = try await leader.post("/signing/pin", form("mine", current: pin), csrf: "forged").status; XCTAssertEqual(got, .forbidden) }
            let mismatch = try await leader.post("/signing/pin", form("mine", current: pin, again: "13572468"))
            XCTAssertEqual(mismatch.status, .badRequest)
            XCTAssertTrue(mismatch.body.contains("không giống nhau"), mismatch.body)
            let others = try await leader.post("/signing/pin", form("other", current: pin))
            XCTAssertEqual(others.status, .unprocessableContent, others.body)
            XCTAssertTrue(others.body.contains("chỉ đổi PIN token của chính bạn"), others.body)
            XCTAssertFalse(others.body.contains(pin) || others.body.contains(newPIN), "no PIN is echoed")
            let seal = try await leader.post("/signing/pin", form("seal", current: pin))
            XCTAssertEqual(seal.status, .unprocessableContent, "the organization's token is not a lãnh đạo's")
            XCTAssertEqual(rig.tokens.pinChanges.withLock { $0 }, 0, "nothing reached a token")

            let wrong = try await leader.post("/signing/pin", form("mine", current: "99999999"))
            XCTAssertTrue(wrong.body.contains("Sai mã PIN, còn 2 lần thử"), wrong.body)
            let changed = try await leader.post("/signing/pin", form("mine", current: pin))
            XCTAssertEqual(changed.location, "/signing/pin?done=changed", changed.body)
            XCTAssertEqual(rig.tokens.pinChanges.withLock { $0 }, 1)
            XCTAssertEqual(rig.tokens.lastNewPIN.withLock { $0 }, Array(newPIN.utf8), "the new PIN reached the token as typed")
            let donePage = try await leader.get("/signing/pin?done=changed")
            XCTAssertTrue(donePage.body.contains("Đã đổi mã PIN"))

            var clerk = ConsoleRouterTests.Browser(client: rig.client)
            try await ConsoleRouterTests.logIn(&clerk, "clerk", password)
            _ = try await clerk.get("/signing/pin")
            let leaders = try await clerk.post("/signing/pin", form("mine", current: pin))
            XCTAssertEqual(leaders.status, .unprocessableContent, "a văn thư cannot change a leader's PIN")
            XCTAssertEqual(rig.tokens.pinChanges.withLock { $0 }, 1)

            let audit = try rig.store.accounts.auditEntries().filter { $0.action.hasPrefix("pin_change") }.map { "\($0.actor) \($0.action) \($0.detail ?? "")" }
            XCTAssertTrue(audit.contains("an pin_change "), "\(audit)")
            XCTAssertTrue(audit.contains("an pin_change_refused not_your_token"), "\(audit)")
            XCTAssertTrue(audit.contains("an pin_change_refused mismatch"), "\(audit)")
            XCTAssertTrue(audit.contains("clerk pin_change_refused person-certificate-in-seal-session"), "\(audit)")
        }
    }

    func testEveryWordHasBothLanguages() {
        for word in SigningWord.allCases {
            XCTAssertFalse(word.text(in: .vi).isEmpty, "\(word)")
            XCTAssertFalse(word.text(in: .en).isEmpty, "\(word)")
        }
        for word in PINWord.allCases {
            XCTAssertFalse(word.text(in: .vi).isEmpty, "\(word)")
            XCTAssertFalse(word.text(in: .en).isEmpty, "\(word)")
        }
    }
}
