import Dispatch
import Signing
import X509

/// A `Signer` backed by a key slot of a PIV token in a named reader. Every signature opens its own
/// connection and runs SELECT, the PIN check, VERIFY and GENERAL AUTHENTICATE in one PC/SC
/// transaction (`PIVToken.sign`), so a token pulled out and plugged back in between two documents
/// just works, and slot 9C's "PIN always" is met each time.
public final class PIVSigner: Signer, @unchecked Sendable {
    public let reader: String
    public let slot: PIV.Slot
    public let certificateChain: [Certificate]
    public let keyType: SignerKeyType
    let keyAlgorithm: PIV.Algorithm
    let pinSource: @Sendable () throws -> PIN
    /// PC/SC calls block: they run here, one at a time, never on the caller's executor.
    private let queue = DispatchQueue(label: "gatewayd.piv-signer")

    /// Reads the slot's certificate from the token. `intermediates`: the issuing CA's
    /// certificates, which the token does not carry. `pin` is asked for each signature and must
    /// not loop over guesses: a wrong PIN fails the signature and is reported with the tries left.
    public init(reader: String, slot: PIV.Slot, intermediates: [Certificate] = [], pin: @escaping @Sendable () throws -> PIN) throws {
        let context = try PCSCContext()
        let card = try context.connect(reader: reader)
        defer { card.disconnect() }
        let token = PIVToken(card: card)
        try token.select()
        let leaf = try Certificate(derEncoded: try token.certificate(slot))
        guard let algorithm = TokenInventory.algorithm(of: leaf) else {
            throw PIVToken.Failure.malformed("khóa của slot \(slot.rawValue) không được hỗ trợ / unsupported key type in slot \(slot.rawValue)")
        }
        self.reader = reader
        self.slot = slot
        self.certificateChain = [leaf] + intermediates
        self.keyAlgorithm = algorithm
        self.keyType = algorithm.keyType
        self.pinSource = pin
    }

    public func sign(digest: [UInt8], algorithm: SignatureAlgorithm) async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try self.signNow(digest: digest, algorithm: algorithm) }) }
        }
    }

    /// The blocking operation, for callers already off the async executors (the command line).
    public func signNow(digest: [UInt8], algorithm: SignatureAlgorithm, force: Bool = false) throws -> [UInt8] {
        let context = try PCSCContext()
        let card = try context.connect(reader: reader)
        // Reset on the way out: no other program inherits the PIN we verified.
        defer { card.disconnect(.reset) }
        let pin = slot.needsPIN ? try pinSource() : nil
        return try PIVToken(card: card).sign(digest: digest, algorithm: algorithm, keyAlgorithm: keyAlgorithm, slot: slot, pin: pin, force: force)
    }
}
