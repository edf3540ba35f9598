import Dispatch
import Signing
import X509

/// A `Signer` backed by a key slot of a PIV token in a named reader. Each signature runs SELECT,
/// the PIN check, VERIFY, GENERAL AUTHENTICATE and a logout (VERIFY P1=FF, so the verified PIN is
/// not left behind for another program) in one PC/SC transaction (`PIVToken.sign`); slot 9C's
/// "PIN always" is met each time. The connection is kept between signatures and made again when
/// it has gone stale (the token was pulled out and plugged back in, or reset) — only ever before
/// any PIN is sent, so a PIN is never tried twice.
package final class PIVSigner: Signer, @unchecked Sendable {
    package let reader: String
    package let slot: PIV.Slot
    package let certificateChain: [Certificate]
    package let keyType: SignerKeyType
    let keyAlgorithm: PIV.Algorithm
    let pinSource: @Sendable () throws -> PIN
    /// PC/SC calls block: they run here, one at a time, never on the caller's executor. The
    /// connection below is only touched on this queue (or in `init`, before the signer is shared).
    private let queue = DispatchQueue(label: "gatewayd.piv-signer")
    private var connection: (any CardTransport)?
    /// A new connection to the token (pcscd's, or a scripted card's in the tests).
    private let connectToCard: @Sendable () throws -> any CardTransport
    /// What the token showed of extended APDUs (a refusal is learnt once, not again per signature).
    private var extendedAPDUs: Bool

    /// Reads the slot's certificate from the token. `intermediates`: the issuing CA's
    /// certificates, which the token does not carry. `pin` is asked for each signature and must
    /// not loop over guesses: a wrong PIN fails the signature and is reported with the tries left.
    package convenience init(reader: String, slot: PIV.Slot, intermediates: [Certificate] = [], pin: @escaping @Sendable () throws -> PIN) throws {
        // The card keeps its context alive: one context per connection, as pcsc-lite wants.
        try self.init(reader: reader, slot: slot, intermediates: intermediates, connect: { try PCSCContext().connect(reader: reader) }, pin: pin)
    }

    /// `connect`: makes a connection to the token, now and again whenever the kept one went stale.
    package init(reader: String, slot: PIV.Slot, intermediates: [Certificate] = [], connect: @escaping @Sendable () throws -> any CardTransport,
                 pin: @escaping @Sendable () throws -> PIN) throws {
        let card = try connect()
        let token = PIVToken(card: card)
        // SELECT and GET DATA together: another program's SELECT in between would leave us reading elsewhere.
        let der = try card.withTransaction { () throws -> [UInt8] in
            try token.select()
            return try token.certificate(slot)
        }
        let leaf = try Certificate(derEncoded: der)
        guard let algorithm = TokenInventory.algorithm(of: leaf) else {
            throw PIVToken.Failure.malformed("khóa của slot \(slot.rawValue) không được hỗ trợ / unsupported key type in slot \(slot.rawValue)")
        }
        self.reader = reader
        self.slot = slot
        self.certificateChain = [leaf] + intermediates
        self.keyAlgorithm = algorithm
        self.keyType = algorithm.keyType
        self.pinSource = pin
        self.connection = card
        self.connectToCard = connect
        self.extendedAPDUs = token.extendedAPDUs
    }

    deinit { connection?.disconnect() }

    package func sign(digest: [UInt8], algorithm: SignatureAlgorithm) async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try self.signNow(digest: digest, algorithm: algorithm) }) }
        }
    }

    /// The blocking operation, for callers already off the async executors (the command line).
    /// Not to be called concurrently with itself (`sign` serialises through the queue).
    package func signNow(digest: [UInt8], algorithm: SignatureAlgorithm, force: Bool = false) throws -> [UInt8] {
        let pin = slot.needsPIN ? try pinSource() : nil
        func sign(on card: any CardTransport) throws(PIVToken.Failure) -> [UInt8] {
            let token = PIVToken(card: card, extendedAPDUs: extendedAPDUs)
            defer { extendedAPDUs = token.extendedAPDUs }
            return try token.sign(digest: digest, algorithm: algorithm, keyAlgorithm: keyAlgorithm, slot: slot, pin: pin, force: force)
        }
        if let kept = connection {
            do { return try sign(on: kept) } catch .connectionLost { dropConnection() }
        }
        let fresh = try connect()
        do { return try sign(on: fresh) } catch .connectionLost(let error) {
            dropConnection()
            throw PIVToken.Failure.transport(error)
        }
    }

    private func connect() throws -> any CardTransport {
        let card = try connectToCard()
        connection = card
        return card
    }

    private func dropConnection() {
        connection?.disconnect()
        connection = nil
    }
}
