// The PIN sequence and the card dialogue of PIVToken and PIVSigner, command by command, over a
// scripted card: no pcscd needed.
import Foundation
import XCTest
import Signing
@testable import TokenDriver

final class PINSequenceTests: XCTestCase {
    static let select = "00A404000B A0000003080000100001 00 00"
    static let triesLeft = "00200080"
    /// VERIFY of "246810", padded with FF to 8 bytes.
    static let verify = "0020008008 323436383130 FFFF"
    static let logout = "0020FF80"
    static let digest = Array(repeating: UInt8(0x11), count: 32)
    /// GENERAL AUTHENTICATE, ECDSA P-256 with 9C, short form: 7C { 82 00, 81 digest }.
    static let authenticate = "0087119C26 7C24 8200 8120" + String(repeating: "11", count: 32) + "00"
    static let signature = "3006020101020102"

    func pin() throws -> PIN { try PIN("246810") }

    func sign(_ token: PIVToken, force: Bool = false) throws -> [UInt8] {
        try token.sign(digest: Self.digest, algorithm: .ecdsaSHA256, keyAlgorithm: .eccP256, slot: .signature, pin: try pin(), force: force)
    }

    func assertFails<T>(_ expected: PIVToken.Failure, _ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { XCTAssertEqual($0 as? PIVToken.Failure, expected, file: file, line: line) }
    }

    /// A card scripted up to the tries query: SELECT, then the empty VERIFY answered `tries`.
    func cardAskedForTries(answer tries: String) -> ScriptedCard {
        let card = ScriptedCard()
        card.expect(Self.select, answer: "9000")
        card.expect(Self.triesLeft, answer: tries)
        return card
    }

    /// A whole signature after the tries query: VERIFY, GENERAL AUTHENTICATE, log-out.
    func cardThatSigns(triesAnswer: String, authenticate: String = authenticate) -> ScriptedCard {
        let card = cardAskedForTries(answer: triesAnswer)
        card.expect(Self.verify, answer: "9000")
        card.expect(authenticate, answer: "7C0A 8208 \(Self.signature) 9000")
        card.expect(Self.logout, answer: "9000")
        return card
    }

    func testSignReadsTheTriesThenVerifiesThenAuthenticatesThenLogsOut() throws {
        let card = cardThatSigns(triesAnswer: "63C3")
        XCTAssertEqual(try sign(PIVToken(card: card, extendedAPDUs: false)), bytes(hex: Self.signature))
        card.assertScriptDone()
    }

    /// A wrong PIN ends the sequence with the tries left: no second VERIFY, no signature.
    func testWrongPINStopsWithTheTriesLeftAndIsNeverRetried() throws {
        let card = cardAskedForTries(answer: "63C3")
        card.expect(Self.verify, answer: "63C2")
        assertFails(.pinIncorrect(triesLeft: 2)) { try sign(PIVToken(card: card, extendedAPDUs: false)) }
        card.assertScriptDone()
    }

    /// One try left: nothing is sent after the tries query unless forced; forced, the one VERIFY
    /// that then fails blocks the token.
    func testTheLastTryIsSpentOnlyWhenForced() throws {
        let refused = cardAskedForTries(answer: "63C1")
        assertFails(.lastTryRefused) { try sign(PIVToken(card: refused, extendedAPDUs: false)) }
        refused.assertScriptDone()

        let forced = cardAskedForTries(answer: "63C1")
        forced.expect(Self.verify, answer: "63C0")
        assertFails(.pinBlocked) { try sign(PIVToken(card: forced, extendedAPDUs: false), force: true) }
        forced.assertScriptDone()
    }

    /// A blocked PIN (6983, or 63C0) is reported without sending the PIN, even when forced.
    func testABlockedPINIsNeverSent() throws {
        for answer in ["6983", "63C0"] {
            let card = cardAskedForTries(answer: answer)
            assertFails(.pinBlocked) { try sign(PIVToken(card: card, extendedAPDUs: false), force: true) }
            card.assertScriptDone()
        }
        // A card that blocks on the last wrong PIN with 6983 rather than 63C0.
        let card = ScriptedCard()
        card.expect(Self.triesLeft, answer: "63C2")
        card.expect(Self.verify, answer: "6983")
        assertFails(.pinBlocked) { try PIVToken(card: card).verify(try pin(), force: false) }
        card.assertScriptDone()
    }

    /// A card that will not tell the tries (it refuses the empty VERIFY, here with 6700): the
    /// status query says so, and a signature still gets its one VERIFY — the card does not say
    /// it is on its last try.
    func testACardThatRefusesTheTriesQueryStillGetsOneVerify() throws {
        let status = ScriptedCard()
        status.expect(Self.triesLeft, answer: "6700")
        assertFails(.card(.wrongLengthNoDetail, operation: "VERIFY (status)")) { try PIVToken(card: status).pinStatus() }
        status.assertScriptDone()

        let card = cardThatSigns(triesAnswer: "6700")
        XCTAssertEqual(try sign(PIVToken(card: card, extendedAPDUs: false)), bytes(hex: Self.signature))
        card.assertScriptDone()
    }

    /// The card refuses extended APDUs (6700): the same command goes again in the short form, its
    /// answer arrives through GET RESPONSE (61xx), and later commands are short from the start.
    func testExtendedRefusedFallsBackToShortAPDUsAndGetResponse() throws {
        let object = TLV(tag: 0x53, value: TLV(tag: 0x70, value: Self.certificate).encoded + [0x71, 0x01, 0x00, 0xFE, 0x00]).encoded
        XCTAssertGreaterThan(object.count, 256, "the object needs GET RESPONSE")
        let rest = object.count - 256
        let card = ScriptedCard()
        card.expect("00CB3FFF 000005 5C035FC10A 0000", answer: "6700")
        card.expect("00CB3FFF 05 5C035FC10A 00", answer: hex(Array(object.prefix(256))) + "61" + String(format: "%02X", rest))
        card.expect("00C00000" + String(format: "%02X", rest), answer: hex(Array(object.dropFirst(256))) + "9000")
        card.expect("00CB3FFF 05 5C035FC105 00", answer: "6A82")
        let token = PIVToken(card: card)
        XCTAssertEqual(try token.certificate(.signature), Self.certificate)
        XCTAssertFalse(token.extendedAPDUs, "learnt from the 6700")
        assertFails(.card(.fileNotFound, operation: "GET DATA 9a")) { try token.certificate(.authentication) }
        card.assertScriptDone()
    }

    /// An RSA challenge does not fit a short APDU: without extended APDUs it goes in a chain of
    /// two (CLA 10 then 00), and the signature comes back in pieces through GET RESPONSE.
    func testCommandChainingAndAChainedAnswer() throws {
        let challenge = Array(repeating: UInt8(0x22), count: 256)
        let command = PIV.sign(challenge, algorithm: .rsa2048, slot: .authentication)
        let pieces = command.chained()
        let answer = TLV(tag: 0x7C, value: TLV(tag: 0x82, value: Array(repeating: 0x33, count: 256)).encoded).encoded
        let card = ScriptedCard()
        card.expect(try pieces[0].encoded(), answer: [0x90, 0x00])
        card.expect(try pieces[1].encoded(), answer: Array(answer.prefix(256)) + [0x61, UInt8(answer.count - 256)])
        card.expect([0x00, 0xC0, 0x00, 0x00, UInt8(answer.count - 256)], answer: Array(answer.dropFirst(256)) + [0x90, 0x00])
        XCTAssertEqual(pieces.map(\.cla), [0x10, 0x00])
        let response = try card.send(command, extended: false)
        XCTAssertEqual(response, ResponseAPDU(data: answer, status: .success))
        card.assertScriptDone()
    }

    /// A stale connection (the card reset or re-inserted since we connected) shows before any PIN
    /// is sent: at the transaction's start or at SELECT. Either is `connectionLost`, safe to retry.
    func testAStaleConnectionIsReportedBeforeAnyPINIsSent() throws {
        let reset = ScriptedCard()
        reset.transactionFailure = .resetCard
        assertFails(.connectionLost(.resetCard)) { try sign(PIVToken(card: reset)) }
        XCTAssertEqual(reset.sent, [])

        let removed = ScriptedCard()
        removed.expect(Self.select, fails: .removedCard)
        assertFails(.connectionLost(.removedCard)) { try sign(PIVToken(card: removed)) }
        removed.assertScriptDone()
    }
}

extension PINSequenceTests {
    /// A self-signed P-256 certificate (openssl req -x509 -newkey ec), for the card's slot 9C.
    static let certificate = Array(Data(base64Encoded: """
        MIIB1TCCAXugAwIBAgIUYaLzEzvgKa3fjSiJPBNvkE2bxVIwCgYIKoZIzj0EAwIwQDEWMBQGA1UEAwwNU2NyaXB0ZWQgY2FyZDEZ\
        MBcGA1UECgwQVUJORCB4YSBIb2EgVGllbjELMAkGA1UEBhMCVk4wHhcNMjYxMjA1MDAwMzQxWhcNMzYxMjAyMDAwMzQxWjBAMRYw\
        FAYDVQQDDA1TY3JpcHRlZCBjYXJkMRkwFwYDVQQKDBBVQk5EIHhhIEhvYSBUaWVuMQswCQYDVQQGEwJWTjBZMBMGByqGSM49AgEG\
        CCqGSM49AwEHA0IABA4+oaYFACjLCtDlZFl2R/BQRaUTWVUUkZ/Sh7+u2W2COtkmB6PhvOESBb4guW3SXhOEb4LQkMAVRS85oFWs\
        2A2jUzBRMB0GA1UdDgQWBBTLjQdvDKJnPl7ExFA0TOY6uHWajjAfBgNVHSMEGDAWgBTLjQdvDKJnPl7ExFA0TOY6uHWajjAPBgNV\
        HRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQCYFp5epTMbRy1LN8EUxSHKFK6+RMi6BCjVuF4zAYNMDwIgYYBMgk6cQ/zu\
        l8G6/Q4Ie4dGoZcOHYh1PUvg8n4nx7E=
        """)!)

    /// The signer's cards: each `connect` takes the next one; more connections than cards fail.
    final class Cards: @unchecked Sendable {
        private let lock = NSLock()
        private var waiting: [ScriptedCard]
        private(set) var connections = 0
        init(_ cards: [ScriptedCard]) { waiting = cards }

        func connect() throws -> any CardTransport {
            try lock.withLock {
                connections += 1
                guard !waiting.isEmpty else { throw PCSCError.noSmartcard }
                return waiting.removeFirst()
            }
        }
    }

    /// A card as `PIVSigner.init` finds it: SELECT, then the 9C certificate in one extended answer.
    func cardWithCertificate() -> ScriptedCard {
        let object = TLV(tag: 0x53, value: TLV(tag: 0x70, value: Self.certificate).encoded + [0x71, 0x01, 0x00]).encoded
        let card = ScriptedCard()
        card.expect(Self.select, answer: "9000")
        card.expect("00CB3FFF 000005 5C035FC10A 0000", answer: hex(object) + "9000")
        return card
    }

    /// The extended form of `authenticate`, which a card that takes extended APDUs gets.
    static let authenticateExtended = "0087119C 000026 7C24 8200 8120" + String(repeating: "11", count: 32) + "0000"

    /// The token reset between two signatures: the kept connection fails at the transaction's
    /// start, the signer connects again and signs there, with one VERIFY in all.
    func testSignerReconnectsOnAStaleConnectionAndSpendsOneVerify() throws {
        let first = cardWithCertificate()
        let second = cardThatSigns(triesAnswer: "63C3", authenticate: Self.authenticateExtended)
        let cards = Cards([first, second])
        let signer = try PIVSigner(reader: "scripted", slot: .signature, connect: cards.connect) { try PIN("246810") }
        first.assertScriptDone()
        first.transactionFailure = .resetCard
        XCTAssertEqual(try signer.signNow(digest: Self.digest, algorithm: .ecdsaSHA256), bytes(hex: Self.signature))
        XCTAssertTrue(first.disconnected, "the stale connection was let go")
        XCTAssertEqual(cards.connections, 2)
        second.assertScriptDone()
    }

    /// The card lost after the VERIFY went out: the signer does not connect again and try the PIN
    /// a second time; it reports the transport failure.
    func testSignerDoesNotRetryOnceThePINWasSent() throws {
        let card = cardWithCertificate()
        card.expect(Self.select, answer: "9000")
        card.expect(Self.triesLeft, answer: "63C3")  // the connection is kept from init: no new card
        card.expect(Self.verify, answer: "9000")
        card.expect(Self.authenticateExtended, fails: .removedCard)
        card.expect(Self.logout, fails: .removedCard)  // the log-out is still tried, on the way out
        let cards = Cards([card])
        let signer = try PIVSigner(reader: "scripted", slot: .signature, connect: cards.connect) { try PIN("246810") }
        assertFails(.transport(.removedCard)) { try signer.signNow(digest: Self.digest, algorithm: .ecdsaSHA256) }
        XCTAssertEqual(cards.connections, 1)
        XCTAssertEqual(card.sent.filter { $0.starts(with: [0x00, 0x20, 0x00, 0x80, 0x08]) }.count, 1, "one VERIFY with the PIN")
        card.assertScriptDone()
    }
}
