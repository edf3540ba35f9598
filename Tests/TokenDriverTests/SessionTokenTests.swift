// SessionTokens' PIVSigningTokens, the signing stage's tokens: over scripted cards (every command
// sent is in the script: the certificate read without a PIN, one VERIFY per signature, nothing
// sent past a refused last try) and over the virtual card through pcscd (the card's own counter).
import Foundation
import GatewayCore
import SessionTokens
import Signing
import TestSupport
import XCTest
@testable import TokenDriver

extension PINSequenceTests {
    func sessionPIN(_ text: String = "246810") -> SessionPIN {
        var bytes = Array(text.utf8)
        return SessionPIN(consuming: &bytes)
    }

    func tokens(_ cards: Cards, readers: [String] = ["scripted"]) -> PIVSigningTokens {
        PIVSigningTokens(readers: { readers }, connect: { _ in try cards.connect() })
    }

    /// One more signature on a card already opened (extended APDUs, as `cardWithCertificate` shows).
    func expectSignature(on card: ScriptedCard, triesAnswer: String) {
        card.expect(Self.select, answer: "9000")
        card.expect(Self.triesLeft, answer: triesAnswer)
        card.expect(Self.verify, answer: "9000")
        card.expect(Self.authenticateExtended, answer: "7C0A 8208 \(Self.signature) 9000")
        card.expect(Self.logout, answer: "9000")
    }

    func assertSessionFails(_ expected: SessionTokenFailure, file: StaticString = #filePath, line: UInt = #line, _ body: () async throws -> Void) async {
        do {
            try await body()
            XCTFail("no failure, \(expected) expected", file: file, line: line)
        } catch {
            XCTAssertEqual(error as? SessionTokenFailure, expected, file: file, line: line)
        }
    }

    func testPINFromBytesIsTheSameVerifyAsFromText() throws {
        let text = "87654321"
        let fromBytes = try Array(text.utf8).withUnsafeBufferPointer { try PIN(bytes: $0) }
        XCTAssertEqual(try PIV.verify(fromBytes).encoded(), try PIV.verify(try PIN(text)).encoded())
        XCTAssertEqual("\(fromBytes)", "PIN(redacted)")
        for (bad, error) in [("12345", PIN.FormatError.wrongLength(5)), ("123456789", .wrongLength(9)), ("12a456", .notDigits), ("１２３４５６", .notDigits)] {
            XCTAssertThrowsError(try Array(bad.utf8).withUnsafeBufferPointer { try PIN(bytes: $0) }) { XCTAssertEqual($0 as? PIN.FormatError, error, bad) }
        }
    }

    func testFailuresReachTheStageAsSessionTokenFailures() {
        let cases: [(any Error, SessionTokenFailure)] = [
            (PIVToken.Failure.pinIncorrect(triesLeft: 2), .wrongPIN(triesLeft: 2)),
            (PIVToken.Failure.pinBlocked, .blocked),
            (PIVToken.Failure.lastTryRefused, .lastTryNeedsConfirmation),
            (PIVToken.Failure.pinFormat(.notDigits), .pinFormat(PIN.FormatError.notDigits.description)),
            (PIN.FormatError.wrongLength(5), .pinFormat(PIN.FormatError.wrongLength(5).description)),
            (PIVToken.Failure.transport(.removedCard), .removed(PCSCError.removedCard.description)),
            (PIVToken.Failure.connectionLost(.resetCard), .removed(PCSCError.resetCard.description)),
            (PCSCError.noSmartcard, .removed(PCSCError.noSmartcard.description)),
            (PCSCError.unknownReader, .removed(PCSCError.unknownReader.description)),
            (PCSCError.serviceStopped, .token(PCSCError.serviceStopped.description)),
            (PIVToken.Failure.card(.securityStatusNotSatisfied, operation: "GENERAL AUTHENTICATE 9c"),
             .token(PIVToken.Failure.card(.securityStatusNotSatisfied, operation: "GENERAL AUTHENTICATE 9c").description)),
            (SessionTokenFailure.blocked, .blocked),
        ]
        for (error, expected) in cases { XCTAssertEqual(PIVSigningTokens.failure(error), expected, "\(error)") }
    }

    /// Opening reads the certificate only; each signature is one VERIFY with the session's PIN,
    /// then GENERAL AUTHENTICATE and the log-out; after `close` the session signs no more.
    func testASessionReadsTheCertificateWithoutThePINThenVerifiesOncePerSignature() async throws {
        let card = cardWithCertificate()
        let cards = Cards([card])
        let pin = sessionPIN()
        let token = try await tokens(cards).open(reader: "scripted", key: "9C", pin: pin, confirmLastTry: false)
        card.assertScriptDone()
        XCTAssertFalse(card.sent.contains { $0.starts(with: [0x00, 0x20]) }, "no VERIFY while opening")
        XCTAssertEqual(token.location, "scripted, slot 9c")
        XCTAssertEqual(token.signer.certificateChain.count, 1, "the slot's certificate, no intermediates configured")
        for _ in 0..<2 {
            expectSignature(on: card, triesAnswer: "63C3")
            let signed = try await token.signer.sign(digest: Self.digest, algorithm: .ecdsaSHA256)
            XCTAssertEqual(signed, bytes(hex: Self.signature))
        }
        card.assertScriptDone()
        token.close()
        await assertSessionFails(.token("Phiên ký đã kết thúc / the signing session has ended")) {
            _ = try await token.signer.sign(digest: Self.digest, algorithm: .ecdsaSHA256)
        }
        XCTAssertTrue(card.disconnected, "closing let go of the card")
        XCTAssertEqual(cards.connections, 1)
    }

    /// A wrong PIN during the session: the signer's error is the stage's `.wrongPIN` with the
    /// card's tries left. The last try: nothing after the tries query unless confirmed.
    func testSessionSignaturesReportWrongPINAndRefuseTheLastTryUnlessConfirmed() async throws {
        // (the answer to the tries query, what the card answers the VERIFY if one is sent, confirmed, the failure)
        let refusals: [(String, String?, Bool, SessionTokenFailure)] = [
            ("63C3", "63C2", false, .wrongPIN(triesLeft: 2)),
            ("63C1", nil, false, .lastTryNeedsConfirmation),
            ("6983", nil, true, .blocked),
        ]
        for (tries, verifyAnswer, confirm, failure) in refusals {
            let card = cardWithCertificate()
            let session = try await tokens(Cards([card])).open(reader: "scripted", key: nil, pin: sessionPIN(), confirmLastTry: confirm)
            card.expect(Self.select, answer: "9000")
            card.expect(Self.triesLeft, answer: tries)
            if let verifyAnswer { card.expect(Self.verify, answer: verifyAnswer) }
            await assertSessionFails(failure) { _ = try await session.signer.sign(digest: Self.digest, algorithm: .ecdsaSHA256) }
            // The session stopped: a caller that tries again sends nothing more to the card.
            await assertSessionFails(.token("Phiên ký đã kết thúc / the signing session has ended: \(failure)")) {
                _ = try await session.signer.sign(digest: Self.digest, algorithm: .ecdsaSHA256)
            }
            card.assertScriptDone()
            XCTAssertTrue(card.disconnected, "the card was let go")
        }

        let confirmed = cardWithCertificate()
        let forced = try await tokens(Cards([confirmed])).open(reader: "scripted", key: "9c", pin: sessionPIN(), confirmLastTry: true)
        expectSignature(on: confirmed, triesAnswer: "63C1")
        let signed = try await forced.signer.sign(digest: Self.digest, algorithm: .ecdsaSHA256)
        XCTAssertEqual(signed, bytes(hex: Self.signature))
        confirmed.assertScriptDone()
    }

    /// The card pulled between two signatures: the reconnection finds no card, and the stage is
    /// told the token was removed.
    func testATokenPulledDuringTheSessionIsReportedRemoved() async throws {
        let card = cardWithCertificate()
        let cards = Cards([card])
        let session = try await tokens(cards).open(reader: "scripted", key: "9c", pin: sessionPIN(), confirmLastTry: false)
        card.transactionFailure = .removedCard
        await assertSessionFails(.removed(PCSCError.noSmartcard.description)) {
            _ = try await session.signer.sign(digest: Self.digest, algorithm: .ecdsaSHA256)
        }
        XCTAssertEqual(card.sent.count, 2, "nothing sent after the certificate")
    }

    /// Refused before any card is touched (a malformed PIN, an unknown slot); with no reader
    /// named, the only reader holding a PIV token is taken, and two are not guessed between.
    func testOpeningRefusalsAndTheOnlyPIVReader() async throws {
        let untouched = Cards([])
        await assertSessionFails(.pinFormat(PIN.FormatError.wrongLength(4).description)) {
            _ = try await tokens(untouched).open(reader: "scripted", key: "9c", pin: sessionPIN("1234"), confirmLastTry: false)
        }
        await assertSessionFails(.token("Khóa 9b không có: slot phải là 9a, 9c, 9d hoặc 9e / no key 9b: the slot must be 9a, 9c, 9d or 9e")) {
            _ = try await tokens(untouched).open(reader: "scripted", key: "9b", pin: sessionPIN(), confirmLastTry: false)
        }
        XCTAssertEqual(untouched.connections, 0)

        let notPIV = ScriptedCard(), piv = ScriptedCard()
        notPIV.expect(Self.select, answer: "6A82")
        piv.expect(Self.select, answer: "6114")
        piv.expect("00C0000014", answer: "61114F0600001000010079074F05A000000308 9000")
        let opened = try await tokens(Cards([notPIV, piv, cardWithCertificate()]), readers: ["A", "B"])
            .open(reader: nil, key: nil, pin: sessionPIN(), confirmLastTry: false)
        XCTAssertEqual(opened.location, "B, slot 9c")
        XCTAssertTrue(notPIV.disconnected && piv.disconnected, "the cards looked at are let go")

        let first = ScriptedCard(), second = ScriptedCard()
        first.expect(Self.select, answer: "9000")
        second.expect(Self.select, answer: "9000")
        await assertSessionFails(.noToken("có 2 token, hãy chọn đầu đọc / 2 tokens plugged in, name the reader: A, B")) {
            _ = try await tokens(Cards([first, second]), readers: ["A", "B"]).open(reader: nil, key: nil, pin: sessionPIN(), confirmLastTry: false)
        }
        await assertSessionFails(.noToken("không đầu đọc nào có token PIV / no reader holds a PIV token")) {
            _ = try await tokens(Cards([]), readers: ["A"]).open(reader: nil, key: nil, pin: sessionPIN(), confirmLastTry: false)
        }
    }
}

/// The same through pcscd and the virtual card: what the signing stage will do with a person's token.
final class PIVSessionTokenTests: XCTestCase {
    var card: VirtualCard?
    var context: PCSCContext!

    override func setUp() async throws {
        context = try VirtualCard.requirements()
        // A card an earlier test left (or pcscd has not yet seen leave) would be the one we reach.
        XCTAssertTrue(try VirtualReader.waitUntilEmpty(context), "the virtual reader still holds a card from before")
    }
    override func tearDown() async throws { card?.remove(context) }

    func sessionPIN(_ text: String) -> SessionPIN {
        var bytes = Array(text.utf8)
        return SessionPIN(consuming: &bytes)
    }

    /// The card's own counter, read from its state file (not through the token).
    func cardTriesLeft() throws -> Int {
        let data = try Data(contentsOf: URL(fileURLWithPath: card!.directory + "/state.json"))
        return try XCTUnwrap((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["tries"] as? Int)
    }

    func sign(_ token: any SessionToken, _ message: String) async throws -> [UInt8] {
        try await token.signer.sign(digest: try FileDigest.compute(path: message, algorithm: .sha256), algorithm: .ecdsaSHA256)
    }

    func testRightPINSignsWrongPINCostsOneTryAndTheLastTryWaitsForConfirmation() async throws {
        card = try VirtualCard()
        try VirtualReader.connectWhenPresent(context).disconnect()
        let directory = card!.directory
        let message = directory + "/quyết định.txt"
        try "Quyết định số 01/QĐ-UBND".write(toFile: message, atomically: true, encoding: .utf8)
        let tokens = PIVSigningTokens()

        // The reader named, as the two-card tests do (the only PIV reader is chosen in the scripted
        // tests). The signature is checked by openssl.
        let reader = try VirtualReader.reader(context)
        let right = try await tokens.open(reader: reader, key: "9c", pin: sessionPIN(VirtualCard.pin), confirmLastTry: false)
        XCTAssertTrue(right.location.hasPrefix("Virtual PCD"), right.location)
        XCTAssertTrue(right.signer.certificate.subject.description.contains("Nguyễn Văn An"))
        let signature = directory + "/signature.der"
        try Data(try await sign(right, message)).write(to: URL(fileURLWithPath: signature))
        right.close()
        XCTAssertEqual(runProgram("/usr/bin/openssl", ["x509", "-in", directory + "/cert-9c.pem", "-pubkey", "-noout", "-out", directory + "/pub.pem"]).status, 0)
        let verified = runProgram("/usr/bin/openssl", ["dgst", "-sha256", "-verify", directory + "/pub.pem", "-signature", signature, message])
        XCTAssertEqual(verified.status, 0, verified.out + verified.err)
        XCTAssertEqual(try cardTriesLeft(), 3)

        // Two wrong PINs, two sessions: each costs exactly one try and reports what is left.
        for left in [2, 1] {
            let wrong = try await tokens.open(reader: reader, key: "9c", pin: sessionPIN(VirtualCard.wrongPIN), confirmLastTry: false)
            do {
                _ = try await sign(wrong, message)
                XCTFail("a wrong PIN signed")
            } catch {
                XCTAssertEqual(error as? SessionTokenFailure, .wrongPIN(triesLeft: left))
            }
            wrong.close()
            XCTAssertEqual(try cardTriesLeft(), left, "exactly one try spent")
        }

        // One try left: not used without the person's confirmation, even with the right PIN.
        let unconfirmed = try await tokens.open(reader: reader, key: "9c", pin: sessionPIN(VirtualCard.pin), confirmLastTry: false)
        do {
            _ = try await sign(unconfirmed, message)
            XCTFail("the last try was used without confirmation")
        } catch {
            XCTAssertEqual(error as? SessionTokenFailure, .lastTryNeedsConfirmation)
        }
        unconfirmed.close()
        XCTAssertEqual(try cardTriesLeft(), 1, "the counter is unchanged")

        // Confirmed: the right PIN signs and the card's counter is whole again.
        let confirmed = try await tokens.open(reader: reader, key: "9c", pin: sessionPIN(VirtualCard.pin), confirmLastTry: true)
        _ = try await sign(confirmed, message)
        confirmed.close()
        XCTAssertEqual(try cardTriesLeft(), 3)
    }
}
