import Foundation
import GatewayCore
import Signing
import Synchronization
import TestSupport
import X509

/// The token seam over key files, for the signing stage's tests: a token per reader name, a PIN
/// with a counter of tries like a card's (a right PIN restores it), and a token that can be
/// "pulled" after a number of signatures. The real tokens (PIV through pcscd) are tested with the
/// virtual card; this double exists so the stage's rules run in milliseconds.
final class KeyFileTokens: SigningTokens, @unchecked Sendable {
    struct Card {
        var key: String
        var chain: String
        var pin: [UInt8] = Array(TestSecrets.value("pin.key-file-token").utf8)
        var triesLeft = 3
        /// Signatures made before the token "is pulled out" (nil: never).
        var pulledAfter: Int?
        var signatures = 0
        /// PIN checks made (a try spent or not): a refusal before signing must leave it at 0.
        var pinChecks = 0
    }

    let cards: Mutex<[String: Card]>

    init(_ cards: [String: Card]) { self.cards = Mutex(cards) }

    func card(_ reader: String) -> Card? { cards.withLock { $0[reader] } }

    func open(reader: String?, key: String?, pin: SessionPIN, confirmLastTry: Bool) async throws(SessionTokenFailure) -> any SessionToken {
        guard let reader, let card = card(reader) else { throw .noToken(reader ?? "no reader named") }
        let signer: SoftwareKeySigner
        do { signer = try SoftwareKeySigner(keyFile: card.key, chainFile: card.chain) } catch { throw .token("\(error)") }
        return Token(reader: reader, inner: signer, tokens: self, pin: pin, confirmLastTry: confirmLastTry)
    }

    /// One VERIFY as a card does it: the tries rule first, then the comparison.
    func verify(_ reader: String, pin: SessionPIN, confirmLastTry: Bool) throws(SessionTokenFailure) {
        let result: Result<Void, SessionTokenFailure> = cards.withLock { cards in
            guard var card = cards[reader] else { return .failure(.removed(reader)) }
            defer { cards[reader] = card }
            if let limit = card.pulledAfter, card.signatures >= limit { return .failure(.removed(reader)) }
            if card.triesLeft == 0 { return .failure(.blocked) }
            if card.triesLeft == 1, !confirmLastTry { return .failure(.lastTryNeedsConfirmation) }
            card.pinChecks += 1
            let right = pin.withBytes { bytes in bytes.map(Array.init) == card.pin }
            guard right else {
                card.triesLeft -= 1
                return .failure(card.triesLeft == 0 ? .blocked : .wrongPIN(triesLeft: card.triesLeft))
            }
            card.triesLeft = 3
            card.signatures += 1
            return .success(())
        }
        try result.get()
    }

    /// A PIN change as a card does it: the tries rule, the current PIN compared (a wrong one
    /// costs a try and changes nothing), then the new one kept.
    func changePIN(reader: String?, key: String?, current: SessionPIN, new: SessionPIN, confirmLastTry: Bool) async throws(SessionTokenFailure) {
        guard let reader else { throw .noToken("no reader named") }
        let result: Result<Void, SessionTokenFailure> = cards.withLock { cards in
            guard var card = cards[reader] else { return .failure(.noToken(reader)) }
            defer { cards[reader] = card }
            if card.triesLeft == 0 { return .failure(.blocked) }
            if card.triesLeft == 1, !confirmLastTry { return .failure(.lastTryNeedsConfirmation) }
            card.pinChecks += 1
            guard current.withBytes({ $0.map(Array.init) == card.pin }) else {
                card.triesLeft -= 1
                return .failure(card.triesLeft == 0 ? .blocked : .wrongPIN(triesLeft: card.triesLeft))
            }
            guard let replacement = new.withBytes({ $0.map(Array.init) }), (6...8).contains(replacement.count) else {
                return .failure(.pinFormat("the new PIN must have 6 to 8 characters"))
            }
            card.triesLeft = 3
            card.pin = replacement
            return .success(())
        }
        try result.get()
    }

    struct Token: SessionToken {
        let reader: String
        let inner: SoftwareKeySigner
        let tokens: KeyFileTokens
        let pin: SessionPIN
        let confirmLastTry: Bool

        var signer: any Signer { CheckedSigner(token: self) }
        var location: String { "\(reader), key file" }
        func close() {}
    }

    /// Each signature checks the PIN first, as a PIV card's "PIN always" slot does.
    struct CheckedSigner: Signer {
        let token: Token
        var certificateChain: [Certificate] { token.inner.certificateChain }
        var keyType: SignerKeyType { token.inner.keyType }

        func sign(digest: [UInt8], algorithm: SignatureAlgorithm) async throws -> [UInt8] {
            try token.tokens.verify(token.reader, pin: token.pin, confirmLastTry: token.confirmLastTry)
            return try await token.inner.sign(digest: digest, algorithm: algorithm)
        }
    }
}
