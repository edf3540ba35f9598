import Crypto
import Foundation
import Logging
import Signing
import Synchronization
import TestSupport
import X509
import XCTest
@testable import GatewayCore

/// `SigningStage.signDigests` (`POST /v1/tokens/sign`, the way `gateway-token sign` goes while the
/// daemon runs) over the key-file tokens: several digests in one session with the certificate that
/// checks them, a wrong PIN tried once, an algorithm the key cannot make refused before any PIN,
/// and the stage's one-at-a-time rule holding between these signatures and a signing session.
extension SigningStageTests {
    func digests(_ texts: [String]) -> [[UInt8]] { texts.map { Array(SHA256.hash(data: Array($0.utf8))) } }

    func testDigestsAreSignedInOneRequestAndTheCertificateChecksThem() async throws {
        let tokens = KeyFileTokens(["leader": try leaderCard()])
        let texts = ["Quyết định số 12/QĐ-UBND", "Tờ trình số 3", "Công văn số 45"]
        let pin = pin()
        let signed = try await stage(tokens).signDigests(
            DigestSigningRequest(reader: "leader", key: nil, algorithm: .ecdsaSHA256, digests: digests(texts), confirmLastTry: false, requestedBy: "test"),
            pin: pin)
        XCTAssertEqual(signed.signatures.count, 3)
        XCTAssertEqual(signed.location, "leader, key file")
        let certificate = try Certificate(derEncoded: signed.certificate)
        let publicKey = try XCTUnwrap(P256.Signing.PublicKey(certificate.publicKey))
        for (text, signature) in zip(texts, signed.signatures) {
            XCTAssertTrue(publicKey.isValidSignature(try P256.Signing.ECDSASignature(derRepresentation: signature), for: Array(text.utf8)), text)
        }
        XCTAssertTrue(pin.withBytes { $0 == nil }, "the PIN is wiped once signed")
    }

    func testTheCertificateIsReadWithoutAPIN() async throws {
        let tokens = KeyFileTokens(["leader": try leaderCard()])
        let found = try await stage(tokens).tokenCertificate(reader: "leader", key: nil)
        let expected = try Certificate(pemEncoded: String(contentsOfFile: try XCTUnwrap(tokens.card("leader")).chain, encoding: .utf8))
        XCTAssertEqual(try Certificate(derEncoded: found.certificate), expected)
        XCTAssertEqual(found.algorithms.first, .ecdsaSHA256, "P-256's preferred scheme first")
        XCTAssertEqual(tokens.card("leader")?.pinChecks, 0)
    }

    func testAWrongPINIsTriedOnceAndNothingMoreIsSigned() async throws {
        let tokens = KeyFileTokens(["leader": try leaderCard()])
        let pin = pin(TestSecrets.value("pin.key-file-token-wrong"))
        do {
            _ = try await stage(tokens).signDigests(
                DigestSigningRequest(reader: "leader", key: nil, algorithm: .ecdsaSHA256, digests: digests(["một", "hai"]), confirmLastTry: false,
                                     requestedBy: "test"),
                pin: pin)
            XCTFail("signed with a wrong PIN")
        } catch {
            XCTAssertEqual(error.code, "wrong_pin")
            XCTAssertTrue(error.message.hasPrefix("Sai mã PIN, còn 2 lần thử"), error.message)
        }
        XCTAssertEqual(tokens.card("leader")?.triesLeft, 2, "exactly one try")
        XCTAssertEqual(tokens.card("leader")?.pinChecks, 1, "the second digest was not tried")
        XCTAssertTrue(pin.withBytes { $0 == nil })
    }

    func testAnAlgorithmTheKeyCannotMakeIsRefusedBeforeAnyPIN() async throws {
        let tokens = KeyFileTokens(["leader": try leaderCard()])
        do {
            _ = try await stage(tokens).signDigests(
                DigestSigningRequest(reader: "leader", key: nil, algorithm: .rsaPKCS1SHA256, digests: digests(["một"]), confirmLastTry: false,
                                     requestedBy: "test"),
                pin: pin())
            XCTFail("an RSA signature from a P-256 key")
        } catch {
            XCTAssertEqual(error.code, "algorithm")
        }
        XCTAssertEqual(tokens.card("leader")?.pinChecks, 0)
    }

    /// While digests are being signed the stage holds the tokens: a signing session and another
    /// request are refused (409), and both are allowed again once it is done.
    func testDigestsAndSessionsNeverHoldTheTokensAtOnce() async throws {
        let (gated, held, request) = try gatedStage()
        _ = try await submit("họp giao ban")
        let firstPIN = pin()
        let first = Task { [held, request] in try await held.signDigests(request, pin: firstPIN) }
        await gated.entered()
        var refusals: [SigningSessionRefusal] = []
        do { _ = try await held.signDigests(request, pin: pin()) } catch { refusals.append(error) }
        do { _ = try await held.open(SigningSessionRequest(role: .leader, reader: "leader", openedBy: "test"), pin: pin()) } catch { refusals.append(error) }
        XCTAssertEqual(refusals.map(\.code), ["session_running", "session_running"])
        XCTAssertEqual(refusals.map(\.httpStatus), [409, 409])
        gated.release()
        let signed = try await first.value
        XCTAssertEqual(signed.signatures.count, 1)
        let session = try await held.open(SigningSessionRequest(role: .leader, reader: "leader", openedBy: "test"), pin: pin())
        var status = session
        while status.phase == .signing { status = await held.status(session.id, after: status.results.count, until: .now + .seconds(60))! }
        XCTAssertEqual(status.phase, .finished)
    }
}

/// Key-file tokens whose first `open` waits until the test releases it, so that the stage is held
/// at a known point (no timing involved).
final class GatedTokens: SigningTokens, @unchecked Sendable {
    let inner: KeyFileTokens
    private let (enteredStream, enteredContinuation) = AsyncStream<Void>.makeStream()
    private let (gateStream, gateContinuation) = AsyncStream<Void>.makeStream()
    private let first = Mutex(true)

    init(_ inner: KeyFileTokens) { self.inner = inner }

    func entered() async { for await _ in enteredStream { return } }
    func release() { gateContinuation.yield(); gateContinuation.finish() }

    func open(reader: String?, key: String?, pin: SessionPIN, confirmLastTry: Bool) async throws(SessionTokenFailure) -> any SessionToken {
        if first.withLock({ first in defer { first = false }; return first }) {
            enteredContinuation.yield()
            for await _ in gateStream { break }
        }
        return try await inner.open(reader: reader, key: key, pin: pin, confirmLastTry: confirmLastTry)
    }

    func changePIN(reader: String?, key: String?, current: SessionPIN, new: SessionPIN, confirmLastTry: Bool) async throws(SessionTokenFailure) {
        try await inner.changePIN(reader: reader, key: key, current: current, new: new, confirmLastTry: confirmLastTry)
    }
}
