// The signing stage's tokens (GatewayCore's `SigningTokens`) over TokenDriver's PIV code: the
// implementation `gatewayd` gives the stage. A library of its own, not a folder of `gatewayd`,
// so that its tests (scripted cards and the virtual card through pcscd) can link it: an
// executable target cannot be imported by a test target. It cannot live in TokenCommandLine,
// which must stay free of GatewayCore for the small `gateway-token` program.
import Dispatch
import GatewayCore
import Signing
import TokenDriver
import X509

package struct PIVSigningTokens: SigningTokens {
    /// The issuing CA's certificates, which a token does not carry (from the configuration).
    let intermediates: [Certificate]
    /// Reader names, and a new connection to a named reader: pcscd's, or scripted cards in tests.
    let readers: @Sendable () throws -> [String]
    let connect: @Sendable (String) throws -> any CardTransport

    /// Through pcscd. One PC/SC context per connection, as pcsc-lite wants (see `PIVSigner`).
    package init(intermediates: [Certificate] = []) {
        self.init(intermediates: intermediates, readers: { try PCSCContext().readers() }, connect: { try PCSCContext().connect(reader: $0) })
    }

    package init(intermediates: [Certificate] = [], readers: @escaping @Sendable () throws -> [String],
                 connect: @escaping @Sendable (String) throws -> any CardTransport) {
        self.intermediates = intermediates
        self.readers = readers
        self.connect = connect
    }

    package func open(reader: String?, key: String?, pin: SessionPIN, confirmLastTry: Bool) async throws(SessionTokenFailure) -> any SessionToken {
        // PC/SC calls block: they run on a queue of their own, never on the caller's executor.
        let opened = await withCheckedContinuation { (continuation: CheckedContinuation<Result<PIVSessionToken, SessionTokenFailure>, Never>) in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { () throws(SessionTokenFailure) in
                    try openNow(reader: reader, key: key, pin: pin, confirmLastTry: confirmLastTry)
                })
            }
        }
        return try opened.get()
    }

    func openNow(reader: String?, key: String?, pin: SessionPIN, confirmLastTry: Bool) throws(SessionTokenFailure) -> PIVSessionToken {
        let slotName = (key ?? PIV.Slot.signature.rawValue).lowercased()
        guard let slot = PIV.Slot(rawValue: slotName) else {
            throw .token("Khóa \(slotName) không có: slot phải là 9a, 9c, 9d hoặc 9e / no key \(slotName): the slot must be 9a, 9c, 9d or 9e")
        }
        // A PIN that cannot be one is refused here, before the token is even opened.
        _ = try Self.pin(from: pin)
        let name: String
        if let reader { name = reader } else { name = try onlyPIVReader() }
        let connect = self.connect
        let signer: PIVSigner
        do {
            signer = try PIVSigner(reader: name, slot: slot, intermediates: intermediates, connect: { try connect(name) }) { () throws -> PIN in
                try Self.pin(from: pin)
            }
        } catch {
            throw Self.openingFailure(error, reader: name, slot: slot)
        }
        return PIVSessionToken(signer: signer, confirmLastTry: confirmLastTry)
    }

    /// The one reader holding a PIV token. Two tokens plugged in and none named is refused rather
    /// than guessed: the session would sign with whichever came first.
    func onlyPIVReader() throws(SessionTokenFailure) -> String {
        let names: [String]
        do { names = try readers() } catch { throw Self.openingFailure(error, reader: nil, slot: nil) }
        let holding = names.filter { name in
            guard let card = try? connect(name) else { return false }
            defer { card.disconnect() }
            return (try? PIVToken(card: card).select()) != nil
        }
        switch holding.count {
        case 1: return holding[0]
        case 0: throw .noToken("không đầu đọc nào có token PIV / no reader holds a PIV token")
        default: throw .noToken("có \(holding.count) token, hãy chọn đầu đọc / \(holding.count) tokens plugged in, name the reader: \(holding.joined(separator: ", "))")
        }
    }

    /// The session's PIN as the card wants it, copied from the session's buffer without a String.
    static func pin(from pin: SessionPIN) throws(SessionTokenFailure) -> PIN {
        let made = pin.withBytes { bytes -> Result<PIN, SessionTokenFailure> in
            guard let bytes else { return .failure(.token("Phiên ký đã kết thúc / the signing session has ended")) }
            do throws(PIN.FormatError) { return .success(try PIN(bytes: bytes)) } catch { return .failure(.pinFormat(error.description)) }
        }
        return try made.get()
    }

    /// A failure while opening: no card, no reader, no PIV application or no certificate in the
    /// slot mean there is no token to open (nothing was pulled: there was nothing yet).
    static func openingFailure(_ error: any Error, reader: String?, slot: PIV.Slot?) -> SessionTokenFailure {
        let place = [reader, slot.map { "slot \($0.rawValue)" }].compactMap { $0 }.joined(separator: ", ")
        switch error {
        case let error as PCSCError where error.meansNoCard:
            return .noToken(place.isEmpty ? error.description : "\(place): \(error.description)")
        case PIVToken.Failure.card(let status, let operation) where operation == "SELECT PIV" || status == .fileNotFound:
            return .noToken("\(place): \(PIVToken.Failure.card(status, operation: operation).description)")
        default:
            return failure(error)
        }
    }

    /// What the stage is told of any failure of the token during a session.
    package static func failure(_ error: any Error) -> SessionTokenFailure {
        switch error {
        case let failure as SessionTokenFailure: return failure
        case let error as PIN.FormatError: return .pinFormat(error.description)
        case let error as PCSCError: return transportFailure(error)
        case let failure as PIVToken.Failure:
            switch failure {
            case .pinIncorrect(let tries): return .wrongPIN(triesLeft: tries)
            case .pinBlocked: return .blocked
            case .lastTryRefused: return .lastTryNeedsConfirmation
            case .pinFormat(let error): return .pinFormat(error.description)
            case .transport(let error), .connectionLost(let error): return transportFailure(error)
            case .card, .malformed, .request: return .token(failure.description)
            }
        default: return .token("\(error)")
        }
    }

    static func transportFailure(_ error: PCSCError) -> SessionTokenFailure {
        error.meansNoCard ? .removed(error.description) : .token(error.description)
    }
}

extension PCSCError {
    /// The card or its reader is not there (any more): pulled out, reset, the reader unplugged.
    /// `notTransacted`: the reader could not reach the card (vpcd reports a vanished card so).
    var meansNoCard: Bool {
        switch self {
        case .noSmartcard, .removedCard, .resetCard, .unknownReader, .readerUnavailable, .noReadersAvailable, .notTransacted, .unpoweredCard: true
        default: false
        }
    }
}

/// One session's token: a PIVSigner whose failures reach the stage as `SessionTokenFailure`.
final class PIVSessionToken: SessionToken, @unchecked Sendable {
    let location: String
    private let session: PIVSessionSigner
    var signer: any Signer { session }

    init(signer: PIVSigner, confirmLastTry: Bool) {
        location = "\(signer.reader), slot \(signer.slot.rawValue)"
        session = PIVSessionSigner(signer: signer, confirmLastTry: confirmLastTry)
    }

    func close() { session.close() }
}

/// The signer the stage holds: each signature asks the session's PIN again (slot 9C is "PIN
/// always") and uses the last try only if the person confirmed it when opening the session. A
/// failure ends the session here too, whatever the caller does next: after a wrong PIN nothing
/// more is sent to the card, so the same PIN can never be tried twice.
final class PIVSessionSigner: Signer, @unchecked Sendable {
    let certificateChain: [Certificate]
    let keyType: SignerKeyType
    private let confirmLastTry: Bool
    /// Signatures run here one at a time, off the caller's executor; `signer` and `stoppedBy` are
    /// touched only here.
    private let queue = DispatchQueue(label: "gatewayd.signing-session")
    private var signer: PIVSigner?
    private var stoppedBy: SessionTokenFailure?

    init(signer: PIVSigner, confirmLastTry: Bool) {
        certificateChain = signer.certificateChain
        keyType = signer.keyType
        self.confirmLastTry = confirmLastTry
        self.signer = signer
    }

    func sign(digest: [UInt8], algorithm: SignatureAlgorithm) async throws -> [UInt8] {
        let signed = await withCheckedContinuation { (continuation: CheckedContinuation<Result<[UInt8], SessionTokenFailure>, Never>) in
            queue.async { [self] in
                continuation.resume(returning: Result { () throws(SessionTokenFailure) in
                    guard let signer else {
                        throw .token("Phiên ký đã kết thúc / the signing session has ended" + (stoppedBy.map { ": \($0)" } ?? ""))
                    }
                    do { return try signer.signNow(digest: digest, algorithm: algorithm, force: confirmLastTry) } catch {
                        let failure = PIVSigningTokens.failure(error)
                        stoppedBy = failure
                        self.signer = nil
                        throw failure
                    }
                })
            }
        }
        return try signed.get()
    }

    /// After any signature under way: the connection goes with the PIVSigner.
    func close() {
        queue.async { [self] in signer = nil }
    }
}
