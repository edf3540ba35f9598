import Dispatch
import Signing
import X509

/// A `Signer` backed by a key slot of a PIV token in a named reader. Each signature runs SELECT,
/// the PIN check, VERIFY, GENERAL AUTHENTICATE and a logout (VERIFY P1=FF, so the verified PIN is
/// not left behind for another program) in one PC/SC transaction (`PIVToken.sign`); slot 9C's
/// "PIN always" is met each time. The connection is kept between signatures and made again when
/// it has gone stale (the token was pulled out and plugged back in, or reset) — only ever before
/// any PIN is sent, so a PIN is never tried twice.
public final class PIVSigner: Signer, @unchecked Sendable {
    public let reader: String
    public let slot: PIV.Slot
    public let certificateChain: [Certificate]
    public let keyType: SignerKeyType
    let keyAlgorithm: PIV.Algorithm
    let pinSource: @Sendable () throws -> PIN
    /// PC/SC calls block: they run here, one at a time, never on the caller's executor. The
    /// connection below is only touched on this queue (or in `init`, before the signer is shared).
    private let queue = DispatchQueue(label: "gatewayd.piv-signer")
    private var connection: (context: PCSCContext, card: PCSCCard)?
    /// What the token showed of extended APDUs (a refusal is learnt once, not again per signature).
    private var extendedAPDUs: Bool

    /// Reads the slot's certificate from the token. `intermediates`: the issuing CA's
    /// certificates, which the token does not carry. `pin` is asked for each signature and must
    /// not loop over guesses: a wrong PIN fails the signature and is reported with the tries left.
    public init(reader: String, slot: PIV.Slot, intermediates: [Certificate] = [], pin: @escaping @Sendable () throws -> PIN) throws {
        let context = try PCSCContext()
        let card = try context.connect(reader: reader)
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
        self.connection = (context, card)
        self.extendedAPDUs = token.extendedAPDUs
    }

    deinit { connection?.card.disconnect() }

    public func sign(digest: [UInt8], algorithm: SignatureAlgorithm) async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try self.signNow(digest: digest, algorithm: algorithm) }) }
        }
    }

    /// The blocking operation, for callers already off the async executors (the command line).
    /// Not to be called concurrently with itself (`sign` serialises through the queue).
    public func signNow(digest: [UInt8], algorithm: SignatureAlgorithm, force: Bool = false) throws -> [UInt8] {
        let pin = slot.needsPIN ? try pinSource() : nil
        func sign(on card: PCSCCard) throws(PIVToken.Failure) -> [UInt8] {
            let token = PIVToken(card: card, extendedAPDUs: extendedAPDUs)
            defer { extendedAPDUs = token.extendedAPDUs }
            return try token.sign(digest: digest, algorithm: algorithm, keyAlgorithm: keyAlgorithm, slot: slot, pin: pin, force: force)
        }
        if let kept = connection?.card {
            do { return try sign(on: kept) } catch .connectionLost { dropConnection() }
        }
        let fresh = try connect()
        do { return try sign(on: fresh) } catch .connectionLost(let error) {
            dropConnection()
            throw PIVToken.Failure.transport(error)
        }
    }

    private func connect() throws -> PCSCCard {
        let context = try PCSCContext()
        let card = try context.connect(reader: reader)
        connection = (context, card)
        return card
    }

    private func dropConnection() {
        connection?.card.disconnect()
        connection = nil
    }
}
