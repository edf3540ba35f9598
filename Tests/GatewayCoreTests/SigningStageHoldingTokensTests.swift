import Foundation
import Logging
import TestSupport
import XCTest
@testable import GatewayCore

/// `SigningStage.holdingTokens` (`GET /v1/tokens`' scan): a listing and a digest request never
/// drive the tokens at once — each finds the stage busy while the other holds it (409), and the
/// stage is free again after.
extension SigningStageTests {
    /// A stage over the leader's key-file token whose first open waits for the test, and a
    /// request of one digest on it.
    func gatedStage() throws -> (GatedTokens, SigningStage, DigestSigningRequest) {
        let gated = GatedTokens(KeyFileTokens(["leader": try leaderCard()]))
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let stage = SigningStage(store: fixture.store, tokens: gated, settings: settings,
                                 environment: SigningEnvironment(clockSynchronised: { true }), logger: logger)
        let request = DigestSigningRequest(reader: "leader", key: nil, algorithm: .ecdsaSHA256, digests: digests(["một"]), confirmLastTry: false,
                                           requestedBy: "test")
        return (gated, stage, request)
    }

    func testAListingAndDigestsNeverHoldTheTokensAtOnce() async throws {
        let (gated, stage, request) = try gatedStage()
        // Digests signing (held at the token's open): a listing is refused.
        let firstPIN = pin()
        let signing = Task { [stage, request] in try await stage.signDigests(request, pin: firstPIN) }
        await gated.entered()
        do {
            _ = try await stage.holdingTokens("token list") { 1 }
            XCTFail("a listing ran while digests were being signed")
        } catch {
            XCTAssertEqual(error.code, "session_running")
            XCTAssertEqual(error.httpStatus, 409)
        }
        gated.release()
        _ = try await signing.value

        // A listing running (held until the test lets it end): digests are refused.
        let (listingStarted, started) = AsyncStream<Void>.makeStream()
        let (gate, opening) = AsyncStream<Void>.makeStream()
        let listing = Task { [stage] in
            try await stage.holdingTokens("token list") {
                started.yield()
                for await _ in gate { break }
                return 2
            }
        }
        for await _ in listingStarted { break }
        do {
            _ = try await stage.signDigests(request, pin: pin())
            XCTFail("digests were signed while a listing ran")
        } catch {
            XCTAssertEqual(error.code, "session_running")
            XCTAssertTrue(error.message.contains("token list"), error.message)
        }
        opening.yield()
        opening.finish()
        let listed = try await listing.value
        XCTAssertEqual(listed, 2)
        let signed = try await stage.signDigests(request, pin: pin())
        XCTAssertEqual(signed.signatures.count, 1, "the stage is free again")
    }
}
