import DocumentModel
import Foundation
import SigningPolicy
import TestSupport
import XCTest
@testable import GatewayCore
import TimeJSON

/// Issue 13 ("Signing inside the box"), acceptance 1, 2 and 3, through the real pieces: the
/// `gatewayd` binary, pcscd with two virtual PIV cards (the leader's in `Virtual PCD 00 00`, the
/// commune's in `Virtual PCD 00 01`, certificates from `scripts/lib/testpki.py signing`), the
/// real `hubd` on loopback TLS, and independent judges at the hub (pyHanko, pdfsig, xmlsec1).
/// `SigningStageTests` has the same rules over key files; here they hold with real cards, the
/// daemon's API and the command line a clerk types.
///
/// Needs hubd and gatewayd built, pcscd with vsmartcard-vpcd (scripts/test starts it), python3
/// with cryptography and pyHanko, xmlsec1, pdfsig, curl (scripts/install-deps): skipped, with
/// the reason, where one is missing.
final class SigningEndToEndTests: XCTestCase {
    static let readers = ["Virtual PCD 00 00", "Virtual PCD 00 01"]
    static let leaderReader = 0, sealReader = 1
    static let pin = TestSecrets.value("pin.virtual-card")
    static let wrongPIN = TestSecrets.value("pin.virtual-card-wrong")

    var directory = ""
    var pki: String { directory + "/pki" }
    var hub: BackgroundProgram?
    var hubData: String { directory + "/hub" }
    var box: RunningDaemon!
    /// The card in each reader, by reader index.
    var cards: [Int: BackgroundProgram] = [:]

    override func setUp() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: RelayEndToEndTests.hubd), "needs hubd (.build/debug/hubd, or HUBD)")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: RunningDaemon.binary), "needs .build/debug/gatewayd")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "needs curl")
        // The readers' sockets, looked at without connecting (a connection to vpcd is a card inserted).
        let listening = runProgram("/usr/bin/ss", ["-Hltn", "sport = :35963 or sport = :35964"]).out
        try XCTSkipUnless(listening.components(separatedBy: "LISTEN").count == 3,
                          "needs pcscd with vsmartcard-vpcd's two virtual readers (scripts/start-pcscd)")
        try XCTSkipUnless(runProgram("/usr/bin/env", ["python3", "-c", "import cryptography"]).status == 0, "needs python3 with cryptography")
        // Both readers empty: a card some other program left there would answer in place of ours.
        // (On a machine where several test runs share pcscd, this waits for the other run's card.)
        try await waitUntil(seconds: 120) {
            !runProgram("/usr/bin/ss", ["-Htn", "state", "established", "( sport = :35963 or sport = :35964 )"]).out.contains("127.0.0.1")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gw-signing-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/cards", withIntermediateDirectories: true)
        try makeSigningPKI()
        try await startHubAndBox()
    }

    override func tearDown() async throws {
        for card in cards.values { card.stop() }
        box?.stop()
        hub?.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: The world

    /// The signing CA and the tokens' certificates (testpki.py's), plus a second person of the
    /// commune who is not a configured leader; the leader's signature image and the seal.
    func makeSigningPKI() throws {
        let lib = repositoryRoot.appendingPathComponent("scripts/lib").path
        let made = runProgram("/usr/bin/env", ["python3", "-c", """
            import sys
            sys.path.insert(0, sys.argv[1])
            import samples, testpki
            d = sys.argv[2]
            pki = testpki.signing_ca(d + '/pki')
            testpki.leader_certificate(pki)
            testpki.organization_certificate(pki)
            testpki.organization_certificate(pki, 'other-organization', testpki.OTHER_COMMUNE, testpki.OTHER_COMMUNE_IDENTITY)
            testpki.expired_leader_certificate(pki)
            testpki.leader_certificate(pki, 'deputy', 'Trần Thị Bình', 'CCCD:079199912345')
            open(d + '/seal.png', 'wb').write(samples.seal_png())
            open(d + '/leader.png', 'wb').write(samples.signature_png())
            """, lib, directory])
        guard made.status == 0 else { throw TestPKI.Failure(description: "testpki.py: \(made.err)") }
    }

    /// hubd on a free port (its own TLS PKI, the box's client certificate for 000.00.20.H14) and
    /// the box, trusting its local clock (a test machine's clock state cannot be chosen).
    func startHubAndBox() async throws {
        let d = directory
        let relay = try BoxPKI(directory: d, code: "000.00.20.H14")
        let server = try relay.pki.issue("hub", subject: "/CN=localhost/O=UBND tỉnh Quảng Trị", key: .p256, extensions: """
            keyUsage=critical,digitalSignature
            extendedKeyUsage=serverAuth
            subjectAltName=DNS:localhost,IP:127.0.0.1

            """)
        let port = freeLoopbackPort()
        // The province (the hub's own code), the recipient commune and this one, both served here.
        let agencies = [(code: "000.00.00.H41", name: "UBND tỉnh Quảng Trị", served: false),
                        (code: "000.00.20.H13", name: "UBND xã Hòa Khương", served: true),
                        (code: "000.00.20.H14", name: "UBND xã Hòa Tiến", served: true)]
        try ("""
            [server]
            listen = "127.0.0.1:\(port)"
            certificate = "\(server.chain)"
            key = "\(server.key)"
            client_ca = "\(relay.pki.root)"

            [hub]
            code = "000.00.00.H41"
            name = "UBND tỉnh Quảng Trị"
            data_directory = "\(hubData)"
            handoff_directory = "\(d)/handoff"

            """ + agencies.map { #"[[agency]]\#ncode = "\#($0.code)"\#nname = "\#($0.name)"\#nserved = \#($0.served)\#n"# }.joined(separator: "\n")
            ).write(toFile: d + "/hubd.toml", atomically: true, encoding: .utf8)
        hub = try BackgroundProgram(RelayEndToEndTests.hubd, ["serve", "--config", d + "/hubd.toml"], outputPath: d + "/hubd.log")
        try await waitUntil(seconds: 60) { isListening(onLoopbackPort: port) }
        upstream = """
            [upstream]
            url = "https://localhost:\(port)"
            ca_file = "\(relay.pki.root)"
            certificate = "\(relay.key.chain)"
            key = "\(relay.key.key)"
            retry_base = "200ms"
            retry_cap = "2s"
            """
        try await startBox(clock: "trust_local_clock")
    }

    /// The `[upstream]` table pointing at the test's hubd.
    var upstream = ""
    /// A `[tokens]` table, when a test serves a token through a PKCS#11 module.
    var tokensTable = ""

    /// The box, configured as the lead's demo is: the commune 000.00.20.H14, one leader, the seal;
    /// `clock`: `[signing] clock`.
    func startBox(clock: String) async throws {
        let d = directory
        box = try RunningDaemon(config: """
            [agency]
            code = "000.00.20.H14"
            name = "UBND xã Hòa Tiến"
            tax_code = "0101234567"

            [intake]
            disk_reserve = 0
            settle_delay = "100ms"
            default_recipients = ["000.00.20.H13"]

            \(upstream)

            [signing]
            clock = "\(clock)"
            numbering = "per_notation"
            default_notation = "QĐ-UBND"
            seal_image = "\(d)/seal.png"

            [[signing.leaders]]
            name = "Nguyễn Văn An"
            title = "CHỦ TỊCH"
            identity = "CCCD:001085012345"
            signature_image = "\(d)/leader.png"

            \(tokensTable)
            """)
        try await box.waitUntilReady()
    }

    /// How many times the daemon's log says `event` for the reader (the token watcher's lines).
    func logged(_ event: String, reader: Int) -> Int {
        let log = (try? String(contentsOfFile: box.logPath, encoding: .utf8)) ?? ""
        return log.components(separatedBy: "reader=\(Self.readers[reader]) [gatewayd] \(event)").count - 1
    }

    /// Puts a virtual card holding `certificate` (pki/NAME.pem and its key in slot 9c) in the
    /// reader and waits until the daemon has identified it — what a clerk sees before typing a PIN.
    /// Returns the card's directory (its `state.json` is the card's own PIN counter).
    @discardableResult
    func insertCard(_ certificate: String, reader: Int) throws -> String {
        let cardDirectory = directory + "/cards/\(certificate)-\(reader)"
        let identified = logged("token identified", reader: reader)
        let card = try BackgroundProgram("/usr/bin/env", [
            "python3", repositoryRoot.appendingPathComponent("tools/virtual-piv/virtual_piv.py").path, "--dir", cardDirectory,
            "--port", "\(35963 + reader)", "--pin", Self.pin, "--no-extended",
            "--import-9c", "\(pki)/\(certificate).key:\(pki)/\(certificate).pem",
        ], outputPath: cardDirectory + ".log")
        cards[reader] = card
        guard card.waitForOutput("connected") else { throw TestPKI.Failure(description: "the card never reached the reader: \(card.output)") }
        guard waitUntil(changesIn: box.directory, timeout: .seconds(30), { logged("token identified", reader: reader) > identified }) else {
            throw TestPKI.Failure(description: "the daemon never identified the card in \(Self.readers[reader])" + logText(box.logPath))
        }
        return cardDirectory
    }

    /// Pulls the card out of the reader and waits until the daemon saw it go.
    func removeCard(reader: Int) {
        let removed = logged("token removed", reader: reader)
        cards[reader]?.stop()
        cards[reader] = nil
        XCTAssertTrue(waitUntil(changesIn: box.directory, timeout: .seconds(30)) { logged("token removed", reader: reader) > removed },
                      "the daemon never saw the card leave \(Self.readers[reader])")
    }

    /// PIN tries left, as the card itself counts them.
    func triesLeft(_ cardDirectory: String) throws -> Int {
        struct State: Decodable { var tries: Int }
        return try JSONDecoder().decode(State.self, from: Data(contentsOf: URL(fileURLWithPath: cardDirectory + "/state.json"))).tries
    }

    /// A PDF and its sidecar dropped in the hot folder the way a clerk's PC copies them (each under
    /// a hidden name, then renamed); returns the document once the daemon has taken it.
    func drop(_ name: String, subject: String, attachments: [(String, [UInt8])] = []) async throws -> DocumentID {
        put(name, subject: subject, SamplePDF.bytes(subject), attachments: attachments)
        var taken: DocumentRecord?
        try await waitUntil(seconds: 30) { [self] in
            taken = try list().first { $0.fileName == name + ".pdf" }
            return taken != nil
        }
        return try XCTUnwrap(taken).id
    }

    /// The sidecar, then the attachments it names, then the file, each written under a hidden
    /// name and renamed into the outbox.
    func put(_ name: String, subject: String, _ pdf: [UInt8], attachments: [(String, [UInt8])] = []) {
        let outbox = box.dataDirectory + "/outbox"
        let named = attachments.isEmpty ? "" : #", "attachments": ["# + attachments.map { "\"\($0.0)\"" }.joined(separator: ", ") + "]"
        let sidecar = #"{"subject": "\#(subject)", "notation": "QĐ-UBND"\#(named)}"#
        for (file, bytes) in [(name + ".json", Array(sidecar.utf8))] + attachments + [(name + ".pdf", pdf)] {
            XCTAssertTrue(FileManager.default.createFile(atPath: outbox + "/." + file + ".tmp", contents: Data(bytes)))
            XCTAssertEqual(rename(outbox + "/." + file + ".tmp", outbox + "/" + file), 0)
        }
    }

    func list() throws -> [DocumentRecord] {
        try GatewayJSON.decoder.decode([DocumentRecord].self, from: Data(box.cli(["queue", "list", "--json"]).out.utf8))
    }

    func view(_ id: DocumentID) throws -> DocumentView {
        try GatewayJSON.decoder.decode(DocumentView.self, from: Data(box.curl([], path: "/v1/documents/\(id)").body.utf8))
    }

    func record(_ id: DocumentID) throws -> DocumentRecord { try view(id).document }

    /// Everything a refusal must leave as it was: each document's row (state, version, digest,
    /// number, time of the last change), its history and the register.
    func snapshot(_ ids: [DocumentID]) throws -> [String] {
        try ids.map { id in
            let view = try view(id)
            return "\(view.document) history \(view.history?.count ?? -1) signatures \(view.signatures?.count ?? -1)"
        } + [box.cli(["register", "--json"]).out]
    }

    /// `gatewayd sign-queue` as a clerk runs it, the PIN on standard input (not a terminal).
    func signQueue(_ role: String, reader: Int, pin: String = SigningEndToEndTests.pin, confirmLastTry: Bool = false,
                   _ ids: [DocumentID] = []) throws -> (status: Int32, out: String) {
        try signQueue(["--role", role, "--reader", Self.readers[reader]] + (confirmLastTry ? ["--confirm-last-try"] : []) + ids.map(\.description),
                      pin: pin)
    }

    func hubPackages() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: hubData + "/packages")) ?? []).filter { $0.hasSuffix(".edxml") }.sorted()
    }

    // MARK: Acceptance 1

    /// A PDF dropped in the hot folder with its sidecar (subject, notation QĐ-UBND, no number) →
    /// the leader signs on their card → the văn thư seals on the commune's card, which numbers it
    /// 01 of the year and signs the envelope → relayed → at the hub, pyHanko and pdfsig find both
    /// signatures of the PDF valid (the leader's intact after the seal) and xmlsec1 verifies the
    /// envelope as hubd stored it; `gatewayd show` tells the whole story.
    func testHotFolderToHubThroughTheLeadersAndTheCommunesCards() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/xmlsec1"), "needs xmlsec1 (scripts/install-deps)")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/pdfsig"), "needs pdfsig (poppler-utils)")
        try XCTSkipUnless(runProgram("/usr/bin/env", ["python3", "-c", "import pyhanko.sign"]).status == 0, "needs python3 with pyHanko")
        try insertCard("leader", reader: Self.leaderReader)
        try insertCard("organization", reader: Self.sealReader)
        let sheet = Array("Xã;Số hộ\nHòa Tiến;1200\n".utf8)
        let id = try await drop("Quyết định phòng chống bão", subject: "Về việc phòng chống bão số 9",
                                attachments: [("Phụ lục 1.pdf", SamplePDF.bytes("Phu luc 1")), ("Bảng số liệu.xlsx", sheet)])
        XCTAssertEqual(try record(id).state, .awaitingLeader)
        XCTAssertEqual(try view(id).attachments?.map(\.fileName), ["Phụ lục 1.pdf", "Bảng số liệu.xlsx"], "taken with the document")
        XCTAssertNil(try record(id).metadata.number, "the sidecar gives no number: the register will")

        let leader = try signQueue("leader", reader: Self.leaderReader)
        XCTAssertEqual(leader.status, 0, leader.out)
        XCTAssertTrue(leader.out.contains("Nguyễn Văn An (CCCD:001085012345)") && leader.out.contains("đã ký / signed"), leader.out)
        XCTAssertEqual(try record(id).state, .awaitingSeal)
        XCTAssertEqual(try record(id).version, 1)

        let seal = try signQueue("organization", reader: Self.sealReader)
        XCTAssertEqual(seal.status, 0, seal.out)
        XCTAssertTrue(seal.out.contains("số / number 01/QĐ-UBND"), seal.out)

        try? await waitUntil(seconds: 60) { [self] in try record(id).state == .delivered }
        let final = try record(id)
        XCTAssertEqual(final.state, .delivered, logText(box.logPath) + logText(directory + "/hubd.log"))
        XCTAssertEqual(final.version, 2)
        let register = try GatewayJSON.decoder.decode(RegisterList.self, from: Data(box.cli(["register", "--json"]).out.utf8))
        XCTAssertEqual(register.year, OutgoingRegister.year(of: Date()))
        XCTAssertEqual(register.entries.map(\.document), [id])
        XCTAssertEqual(register.entries.first.map { $0.number.reference }, "01/QĐ-UBND")
        XCTAssertEqual(final.registerNumber?.number, 1)

        // At the hub: one package, as hubd stored it.
        let packages = hubPackages()
        XCTAssertEqual(packages.count, 1, "\(packages)")
        let package = hubData + "/packages/" + (try XCTUnwrap(packages.first, "nothing reached the hub: " + logText(box.logPath)))
        let xmlsec = runProgram("/usr/bin/xmlsec1", ["--verify", "--trusted-pem", pki + "/ca.pem", package])
        XCTAssertEqual(xmlsec.status, 0, "xmlsec1: \(xmlsec.err)")
        // Under the commune's certificate (the seal's token), not the box's TLS key.
        let envelope = try String(contentsOfFile: package, encoding: .utf8)
        let embedded = envelope.components(separatedBy: "X509Certificate>").dropFirst().first.map { String($0.prefix { $0 != "<" }) } ?? ""
        let organization = try String(contentsOfFile: pki + "/organization.pem", encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        XCTAssertEqual(embedded.filter { !$0.isWhitespace }, organization, "the envelope's certificate is the commune's")
        let unpacked = directory + "/at-hub"
        let unpack = box.cli(["edxml", "unpack", package, "--dir", unpacked], data: false)
        XCTAssertEqual(unpack.status, 0, unpack.err)
        let header = try String(contentsOfFile: unpacked + "/edxml.json", encoding: .utf8)
        XCTAssertTrue(header.contains(#""code":{"notation":"QĐ-UBND","number":"01"}"#), header)
        let pdf = unpacked + "/Quyết định phòng chống bão.pdf"
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: pdf)),
                       try Data(contentsOf: URL(fileURLWithPath: StoreLayout(dataDirectory: box.dataDirectory).objectPath(id, version: 2))),
                       "the hub holds the box's last version byte for byte")
        // The attachments travelled in the same package, signed by the commune's card in the seal
        // session: the PDF attachment by PAdES (judged by pyHanko and pdfsig below), the .xlsx
        // unchanged with its detached .p7s, which openssl verifies against the test CA.
        let attachmentPDF = unpacked + "/Phụ lục 1.pdf"
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: attachmentPDF)),
                       try Data(contentsOf: URL(fileURLWithPath: StoreLayout(dataDirectory: box.dataDirectory).attachmentPath(id, position: 1, version: 1))))
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: unpacked + "/Bảng số liệu.xlsx"))), sheet)
        let cms = runProgram("/usr/bin/openssl", ["cms", "-verify", "-binary", "-inform", "DER", "-in", unpacked + "/Bảng số liệu.xlsx.p7s",
                                                  "-content", unpacked + "/Bảng số liệu.xlsx", "-CAfile", pki + "/ca.pem", "-purpose", "any",
                                                  "-out", "/dev/null"])
        XCTAssertEqual(cms.status, 0, "openssl cms -verify: \(cms.err)")

        // pyHanko, trusting only the test CA: both signatures intact, valid and trusted; the
        // leader's covers its own revision (the seal came after, as an allowed incremental update).
        func pyHanko(_ pdf: String) -> (status: Int32, out: String, err: String) { runProgram("/usr/bin/env", ["python3", "-c", """
            import sys
            from pyhanko.pdf_utils.reader import PdfFileReader
            from pyhanko.sign.validation import validate_pdf_signature
            from pyhanko_certvalidator import ValidationContext
            from pyhanko.keys import load_cert_from_pemder
            vc = ValidationContext(trust_roots=[load_cert_from_pemder(sys.argv[2])])
            with open(sys.argv[1], 'rb') as f:
                for s in PdfFileReader(f).embedded_signatures:
                    st = validate_pdf_signature(s, vc)
                    uid = s.signer_cert.subject.native.get('user_id')
                    print(uid, 'intact' if st.intact else 'BROKEN', 'valid' if st.valid else 'INVALID',
                          'trusted' if st.trusted else 'UNTRUSTED', st.coverage.name, 'OK' if st.bottom_line else 'FAIL')
            """, pdf, pki + "/ca.pem"]) }
        let hanko = pyHanko(pdf)
        XCTAssertEqual(hanko.status, 0, hanko.err)
        XCTAssertEqual(hanko.out.split(separator: "\n"), [
            "CCCD:001085012345 intact valid trusted ENTIRE_REVISION OK",
            "MST:0101234567 intact valid trusted ENTIRE_FILE OK",
        ], hanko.out)
        // pdfsig (poppler, NSS): both signatures' bytes valid, the seal covering the whole file.
        let poppler = runProgram("/usr/bin/pdfsig", [pdf])
        XCTAssertEqual(poppler.out.components(separatedBy: "Signature Validation: Signature is Valid.").count - 1, 2, poppler.out + poppler.err)
        XCTAssertTrue(poppler.out.contains("UID=CCCD:001085012345") && poppler.out.contains("UID=MST:0101234567"), poppler.out)
        XCTAssertEqual(poppler.out.components(separatedBy: "Not total document signed").count - 1, 1, "the leader's: its revision")
        XCTAssertEqual(poppler.out.components(separatedBy: "- Total document signed").count - 1, 1, "the seal's: the whole file")
        // The PDF attachment: the commune's one signature, over the whole file.
        let attachmentHanko = pyHanko(attachmentPDF)
        XCTAssertEqual(attachmentHanko.status, 0, attachmentHanko.err)
        XCTAssertEqual(attachmentHanko.out.split(separator: "\n"), ["MST:0101234567 intact valid trusted ENTIRE_FILE OK"], attachmentHanko.out)
        let attachmentPoppler = runProgram("/usr/bin/pdfsig", [attachmentPDF])
        XCTAssertEqual(attachmentPoppler.out.components(separatedBy: "Signature Validation: Signature is Valid.").count - 1, 1,
                       attachmentPoppler.out + attachmentPoppler.err)

        // The whole history in `gatewayd show`: intake, both signatures with their cards, the
        // number, the package, the relay.
        let shown = box.cli(["show", id.description])
        XCTAssertEqual(shown.status, 0, shown.err)
        for line in [
            "Sổ văn bản đi / register: số 01/QĐ-UBND",
            "leader  Nguyễn Văn An (CCCD:001085012345)  v1",
            "[Virtual PCD 00 00, slot 9c]",
            "organization  UBND xã Hòa Tiến (MST:0101234567)  v2",
            "[Virtual PCD 00 01, slot 9c]",
            "Tệp đính kèm / attachments:",
            "1. Phụ lục 1.pdf",
            "(PAdES, v1)",
            "2. Bảng số liệu.xlsx",
            "(Bảng số liệu.xlsx.p7s)",
            "— → received  taken from the hot folder",
            "ký tệp đính kèm \"Phụ lục 1.pdf\" (PAdES)",
            "ký tệp đính kèm \"Bảng số liệu.xlsx\" (CAdES .p7s)",
            "received → awaiting_leader",
            "awaiting_leader → awaiting_seal  ký bởi lãnh đạo / signed by the leader Nguyễn Văn An",
            "awaiting_seal → signed  đóng dấu, ký số của cơ quan",
            "signed → queued  edXML package built",
            "queued → sending",
            "sending → delivered  delivered: receipt signed by the hub 000.00.00.H41",
        ] {
            XCTAssertTrue(shown.out.contains(line), "“\(line)” missing from:\n\(shown.out)")
        }
    }

    // MARK: Acceptance 2

    /// At the door of the running daemon's hot folder: a `.pdf` that is not a PDF and an encrypted
    /// PDF go to `outbox/rejected/` with the reason beside them, and nothing is stored.
    /// (`PDFIntakeDoorTests` has the same through the daemon's API and the hot folder's code.)
    func testAFakeAndAnEncryptedPDFAreRefusedAtTheHotFolder() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/qpdf"), "needs qpdf (scripts/install-deps)")
        let good = try await drop("Hợp lệ", subject: "Về việc hợp lệ")
        let before = try snapshot([good])
        let plain = directory + "/plain.pdf", locked = directory + "/locked.pdf"
        XCTAssertTrue(FileManager.default.createFile(atPath: plain, contents: Data(SamplePDF.bytes("Tờ trình"))))
        let encrypted = runProgram("/usr/bin/qpdf", ["--encrypt", TestSecrets.value("pdf.user-password"), TestSecrets.value("pdf.owner-password"),
                                                     "256", "--", plain, locked])
        XCTAssertEqual(encrypted.status, 0, encrypted.err)
        let rejected = box.dataDirectory + "/outbox/rejected"
        for (name, bytes, code, reason) in [("Giả", Array("%PDF-1.4 test".utf8), "not_a_pdf", "không phải PDF hợp lệ"),
                                            ("Có mật khẩu", Array(try Data(contentsOf: URL(fileURLWithPath: locked))), "encrypted_pdf", "gỡ mật khẩu")] {
            put(name, subject: "Thử \(code)", bytes)
            let errorFile = rejected + "/" + name + ".pdf.error.txt"
            // The sidecar goes with it, named after the file it belonged to.
            let sidecar = rejected + "/" + name + ".pdf.json"
            XCTAssertTrue(waitUntil(changesIn: rejected, timeout: .seconds(30)) {
                FileManager.default.fileExists(atPath: errorFile) && FileManager.default.fileExists(atPath: sidecar)
            }, "\(name): \((try? FileManager.default.contentsOfDirectory(atPath: rejected)) ?? [])")
            let text = try String(contentsOfFile: errorFile, encoding: .utf8)
            XCTAssertTrue(text.contains(reason) && text.contains("Mã lỗi / error code: \(code)"), text)
        }
        XCTAssertEqual(try list().map(\.id), [good], "nothing stored")
        XCTAssertEqual(try snapshot([good]), before, "nothing changed")
    }

    /// The refusals, each through `gatewayd sign-queue` with real cards, each with its reason
    /// shown and nothing changed (row, version, history, register); a token refused for its
    /// certificate is refused before its PIN is sent (given a wrong one, the card's counter
    /// stays). The documents returned or withdrawn never reach the hub; the one that is signed in
    /// the end does.
    func testRefusalsThroughTheDaemonAndTheCardsChangeNothing() async throws {
        let leaderCard = try insertCard("leader", reader: Self.leaderReader)
        let sealCard = try insertCard("organization", reader: Self.sealReader)
        let main = try await drop("Quyết định", subject: "Về việc phân công nhiệm vụ")
        let returned = try await drop("Tờ trình", subject: "Về việc sửa chữa trường học")
        let withdrawn = try await drop("Thông báo", subject: "Về việc lịch tiếp dân")
        let all = [main, returned, withdrawn]

        func refused(_ role: String, reader: Int, _ ids: [DocumentID] = [], saying reasons: [String], opened: Bool,
                     file: StaticString = #filePath, line: UInt = #line) throws {
            let before = try snapshot(all)
            // A token refused at opening is given the wrong PIN: had it been sent, the card's
            // counter would show it.
            let run = try signQueue(role, reader: reader, pin: opened ? Self.pin : Self.wrongPIN, ids)
            XCTAssertNotEqual(run.status, 0, run.out, file: file, line: line)
            XCTAssertEqual(run.out.contains("Không mở được phiên ký / the session was not opened"), !opened, run.out, file: file, line: line)
            for reason in reasons { XCTAssertTrue(run.out.contains(reason), "“\(reason)” missing from:\n\(run.out)", file: file, line: line) }
            XCTAssertEqual(try snapshot(all), before, "nothing changed", file: file, line: line)
        }

        // The seal before the leader's signature: that document's result, nothing else.
        try refused("organization", reader: Self.sealReader, [main], saying: ["không ký / refused", "không đóng dấu trước khi lãnh đạo ký"], opened: true)
        XCTAssertEqual(try triesLeft(sealCard), 3)
        // A leader's session with the commune's token: refused before any PIN.
        try refused("leader", reader: Self.sealReader, saying: ["đây là chứng thư của tổ chức (MST:0101234567)"], opened: false)
        XCTAssertEqual(try triesLeft(sealCard), 3, "no PIN try spent on a refused token")

        // The leader returns one document with a note, the clerk withdraws another.
        let note = "Sửa trích yếu cho đúng thể thức"
        let back = box.cli(["return", returned.description, "--note", note, "--by", "Nguyễn Văn An"])
        XCTAssertEqual(back.status, 0, back.err)
        let away = box.cli(["withdraw", withdrawn.description, "--note", "Văn thư rút lại", "--by", "văn thư"])
        XCTAssertEqual(away.status, 0, away.err)
        XCTAssertEqual(try record(returned).state, .returned)
        let reason = try record(returned).stateReason ?? ""
        XCTAssertTrue(reason.contains(note), reason)
        XCTAssertEqual(try record(withdrawn).state, .withdrawn)
        // Named in a session, both refused, with their state as the reason.
        try refused("leader", reader: Self.leaderReader, [returned, withdrawn],
                    saying: ["returned, not waiting for a signature", "withdrawn, not waiting for a signature"], opened: true)

        // The leader signs the one left; signing it again in that role is refused.
        let signed = try signQueue("leader", reader: Self.leaderReader)
        XCTAssertEqual(signed.status, 0, signed.out)
        XCTAssertTrue(signed.out.contains("1 văn bản / documents"), "only the document still waiting: \(signed.out)")
        XCTAssertEqual(try record(main).version, 1)
        try refused("leader", reader: Self.leaderReader, [main], saying: ["văn bản đã được ký ở vai leader"], opened: true)

        // Someone of the commune who is not a configured leader, then the leader's expired card.
        removeCard(reader: Self.leaderReader)
        let deputy = try insertCard("deputy", reader: Self.leaderReader)
        try refused("leader", reader: Self.leaderReader, [main], saying: ["(CCCD:079199912345) không có trong danh sách lãnh đạo"], opened: false)
        XCTAssertEqual(try triesLeft(deputy), 3)
        removeCard(reader: Self.leaderReader)
        let expired = try insertCard("leader-expired", reader: Self.leaderReader)
        try refused("leader", reader: Self.leaderReader, [main], saying: ["chứng thư đã hết hạn"], opened: false)
        XCTAssertEqual(try triesLeft(expired), 3)
        // Another commune's certificate cannot seal for this one.
        removeCard(reader: Self.sealReader)
        let other = try insertCard("other-organization", reader: Self.sealReader)
        try refused("organization", reader: Self.sealReader, saying: ["chứng thư của tổ chức khác", "MST:0109876543"], opened: false)
        XCTAssertEqual(try triesLeft(other), 3)
        XCTAssertEqual(try triesLeft(leaderCard), 3, "the leader's card was used once, with the right PIN")

        // The commune's card seals what is waiting: only that document reaches the hub.
        removeCard(reader: Self.sealReader)
        try insertCard("organization", reader: Self.sealReader)
        let sealed = try signQueue("organization", reader: Self.sealReader)
        XCTAssertEqual(sealed.status, 0, sealed.out)
        try? await waitUntil(seconds: 60) { [self] in try record(main).state == .delivered }
        XCTAssertEqual(try record(main).state, .delivered, logText(box.logPath))
        XCTAssertEqual(hubPackages().count, 1, "the returned and the withdrawn document never reach the hub")
        XCTAssertEqual(try record(returned).state, .returned)
        XCTAssertEqual(try record(returned).version, 0)
        XCTAssertEqual(try record(withdrawn).state, .withdrawn)
        XCTAssertEqual(try record(withdrawn).version, 0)
        let register = try GatewayJSON.decoder.decode(RegisterList.self, from: Data(box.cli(["register", "--json"]).out.utf8))
        XCTAssertEqual(register.entries.map(\.document), [main], "numbers only for what was sealed")
    }

    /// Signing before the clock is synchronised (acceptance 2, last refusal), with the box's
    /// default `clock = "require_synchronised"` and this machine's real clock state: refused at
    /// opening with the reason, before the PIN, nothing changed. A machine whose clock is
    /// synchronised cannot show it (`SigningStageTests` covers both answers with a chosen state).
    func testSigningBeforeTheClockIsSynchronisedIsRefused() async throws {
        let state = SystemClockState.synchronised()
        try XCTSkipIf(state == true, "this machine's clock is synchronised: the refusal cannot be shown here")
        box.stop()
        try await startBox(clock: "require_synchronised")
        let card = try insertCard("leader", reader: Self.leaderReader)
        let id = try await drop("Quyết định", subject: "Về việc phân công nhiệm vụ")
        let before = try snapshot([id])
        let run = try signQueue("leader", reader: Self.leaderReader, pin: Self.wrongPIN)
        XCTAssertNotEqual(run.status, 0, run.out)
        XCTAssertTrue(run.out.contains(state == false ? "đồng hồ của hộp chưa được đồng bộ" : "không biết đồng hồ của hộp đã đồng bộ chưa"), run.out)
        XCTAssertEqual(try snapshot([id]), before, "nothing changed")
        XCTAssertEqual(try triesLeft(card), 3, "refused before the PIN")
    }

    // MARK: Acceptance 3

    /// Through the virtual card, its own counter read from its state file: a wrong PIN costs
    /// exactly one try and stops the session (nothing signed); with one try left the right PIN is
    /// not sent without --confirm-last-try; with it, the batch is signed and the counter restored.
    func testAWrongPINCostsOneTryAndTheLastTryNeedsConfirmation() async throws {
        let card = try insertCard("leader", reader: Self.leaderReader)
        let ids = [try await drop("Một", subject: "Văn bản một"), try await drop("Hai", subject: "Văn bản hai")]
        var before = try snapshot(ids)

        let wrong = try signQueue("leader", reader: Self.leaderReader, pin: Self.wrongPIN)
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssertTrue(wrong.out.contains("Sai mã PIN, còn 2 lần thử"), wrong.out)
        XCTAssertEqual(try triesLeft(card), 2, "exactly one try")
        XCTAssertEqual(try snapshot(ids), before, "the session stopped: nothing signed")

        let again = try signQueue("leader", reader: Self.leaderReader, pin: Self.wrongPIN)
        XCTAssertTrue(again.out.contains("còn 1 lần thử"), again.out)
        XCTAssertEqual(try triesLeft(card), 1)

        let unconfirmed = try signQueue("leader", reader: Self.leaderReader)
        XCTAssertNotEqual(unconfirmed.status, 0)
        XCTAssertTrue(unconfirmed.out.contains("Chỉ còn 1 lần thử PIN: cần xác nhận"), unconfirmed.out)
        XCTAssertEqual(try triesLeft(card), 1, "the last try is not used without confirmation")
        XCTAssertEqual(try snapshot(ids), before)

        before = try snapshot(ids)
        let confirmed = try signQueue("leader", reader: Self.leaderReader, confirmLastTry: true)
        XCTAssertEqual(confirmed.status, 0, confirmed.out)
        XCTAssertTrue(confirmed.out.contains("Đã ký / signed: 2/2"), confirmed.out)
        XCTAssertEqual(try triesLeft(card), 3, "a right PIN restores the counter")
        for id in ids { XCTAssertEqual(try record(id).state, .awaitingSeal) }
        // Nowhere the PIN: not in the daemon's log (scripts/test searches every kept log too).
        let daemonLog = try String(contentsOfFile: box.logPath, encoding: .utf8)
        XCTAssertFalse(daemonLog.contains(Self.pin) || daemonLog.contains(Self.wrongPIN), "a PIN in the daemon's log")
    }
}

/// A log file's text for a failure message.
func logText(_ path: String) -> String {
    "\n--- \(path):\n" + ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "(none)")
}
