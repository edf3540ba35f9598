import Signing

/// A PIV token in a reader: the card application's operations over one card connection (PC/SC,
/// or a scripted card in the tests), with the PIN rules of `PINPolicy` applied before any try is spent.
package final class PIVToken: @unchecked Sendable {
    package enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case pinIncorrect(triesLeft: Int)
        case pinBlocked
        /// One try left and the caller did not force: nothing was sent.
        case lastTryRefused
        case pinFormat(PIN.FormatError)
        case card(StatusWord, operation: String)
        case transport(PCSCError)
        case malformed(String)
        /// The request itself was wrong (digest length, an algorithm the key cannot do): nothing was sent.
        case request(SignerError)
        /// The connection went stale before anything was sent (the card was reset or re-inserted
        /// since we connected): reconnecting and starting again is safe, no PIN was tried.
        case connectionLost(PCSCError)

        package var description: String {
            switch self {
            case .pinIncorrect(let tries):
                "Mã PIN sai, còn \(tries) lần thử. / Wrong PIN, \(tries) tries left."
            case .pinBlocked:
                "Token đã bị khóa mã PIN; cần nhà cung cấp mở khóa. / The token's PIN is blocked; its provider must unblock it."
            case .lastTryRefused:
                "Chỉ còn 1 lần thử mã PIN: không thử để tránh khóa token (dùng --force nếu chắc chắn). / One PIN try left: not tried, to avoid locking the token (use --force if you are sure)."
            case .pinFormat(let error): error.description
            case .card(let status, let operation): "Token từ chối \(operation) / the token refused \(operation): \(status)"
            case .transport(let error): error.description
            case .malformed(let what): "Phản hồi không hợp lệ từ token / malformed answer from the token: \(what)"
            case .request(let error): error.description
            case .connectionLost(let error): error.description
            }
        }
    }

    package enum PINStatus: Sendable, Equatable {
        case verified
        case triesLeft(Int)
        case blocked
    }

    let card: any CardTransport
    /// Whether the card takes extended APDUs; learnt on the first refusal (6700) when unknown.
    private(set) var extendedAPDUs: Bool

    package init(card: any CardTransport, extendedAPDUs: Bool = true) {
        self.card = card
        self.extendedAPDUs = extendedAPDUs
    }

    /// Sends a command; `longAnswer` for those whose answer may run past 256 bytes (GET DATA of a
    /// certificate, GENERAL AUTHENTICATE with RSA). On a card that takes extended APDUs these ask
    /// for the whole answer at once (Le 65536, "all there is") rather than 256 bytes at a time
    /// through GET RESPONSE: one exchange instead of four for a certificate, each exchange being a
    /// USB round trip on a real token.
    func send(_ command: CommandAPDU, longAnswer: Bool = false) throws(Failure) -> ResponseAPDU {
        var command = command
        if longAnswer, extendedAPDUs, command.expectedLength == 256 { command.expectedLength = 65536 }
        do {
            let response = try card.send(command, extended: extendedAPDUs)
            if response.status == .wrongLengthNoDetail, extendedAPDUs, !command.fitsShortForm {
                if command.expectedLength == 65536 { command.expectedLength = 256 }
                extendedAPDUs = false  // the token refuses extended APDUs: chain from now on
                return try card.send(command, extended: false)
            }
            return response
        } catch let error as PCSCError {
            throw .transport(error)
        } catch let error as Failure {
            throw error
        } catch {
            throw .malformed("\(error)")
        }
    }

    func expectSuccess(_ command: CommandAPDU, _ operation: String, longAnswer: Bool = false) throws(Failure) -> [UInt8] {
        let response = try send(command, longAnswer: longAnswer)
        guard response.status.isSuccess else { throw .card(response.status, operation: operation) }
        return response.data
    }

    /// Tokens do not always select PIV at power-on: every operation starts here.
    package func select() throws(Failure) {
        _ = try expectSuccess(PIV.select(), "SELECT PIV")
    }

    package func certificate(_ slot: PIV.Slot) throws(Failure) -> [UInt8] {
        let data = try expectSuccess(PIV.getData(slot.certificateObject), "GET DATA \(slot.rawValue)", longAnswer: true)
        let object: PIV.CertificateObject
        do { object = try PIV.certificateObject(data) } catch { throw .malformed("\(error)") }
        guard object.isCompressed else { return object.certificate }
        // CertInfo says gzip (SP 800-73-4 Part 1 §3.3.2 note): some issuers compress to fit.
        do { return try GzipInflater.inflate(object.certificate, limit: 16 * 1024) } catch { throw .malformed("\(error)") }
    }

    /// Tries left, without spending one (VERIFY with no data).
    func pinStatus() throws(Failure) -> PINStatus {
        let response = try send(PIV.pinStatus())
        switch response.status {
        case .success: return .verified
        case .pinIncorrect(let tries): return tries == 0 ? .blocked : .triesLeft(tries)
        case .authenticationBlocked: return .blocked
        default: throw .card(response.status, operation: "VERIFY (status)")
        }
    }

    /// VERIFY, once, after checking the tries left. Never retried by itself.
    package func verify(_ pin: PIN, force: Bool) throws(Failure) {
        let status = try send(PIV.pinStatus()).status
        switch PINPolicy.decide(status: status, force: force) {
        case .blocked: throw .pinBlocked
        case .refuseLastTry: throw .lastTryRefused
        case .proceed: break
        }
        let response = try send(PIV.verify(pin))
        switch response.status {
        case .success: return
        case .pinIncorrect(let tries): throw tries == 0 ? .pinBlocked : .pinIncorrect(triesLeft: tries)
        case .authenticationBlocked: throw .pinBlocked
        default: throw .card(response.status, operation: "VERIFY")
        }
    }

    /// Signs a digest with the slot's key: SELECT, the PIN check and VERIFY, then GENERAL
    /// AUTHENTICATE, all inside one PC/SC transaction so no other program slips between them
    /// (slot 9C's "PIN always" is satisfied by the VERIFY right before).
    package func sign(digest: [UInt8], algorithm: SignatureAlgorithm, keyAlgorithm: PIV.Algorithm,
                     slot: PIV.Slot, pin: PIN?, force: Bool = false) throws(Failure) -> [UInt8] {
        let challenge: [UInt8]
        do { challenge = try SignatureBlock.challenge(digest: digest, algorithm: algorithm, keyAlgorithm: keyAlgorithm) } catch {
            throw .request(error)
        }
        do {
            return try card.withTransaction { () throws -> [UInt8] in
                if case .failure(let failure) = Result(catching: { () throws(Failure) in try select() }) {
                    // A stale connection shows here, before anything that matters was sent.
                    if case .transport(let error) = failure, error.isRecoverable { throw Failure.connectionLost(error) }
                    throw failure
                }
                let verified = slot.needsPIN && pin != nil
                if verified, let pin { try verify(pin, force: force) }
                // Whatever happens next, the PIN's security status is reset before we let go.
                defer { if verified { _ = try? send(PIV.logout()) } }
                let data = try expectSuccess(PIV.sign(challenge, algorithm: keyAlgorithm, slot: slot), "GENERAL AUTHENTICATE \(slot.rawValue)",
                                         longAnswer: true)
                do { return try PIV.signature(fromAuthenticateResponse: data) } catch { throw Failure.malformed("\(error)") }
            }
        } catch let error as PCSCError where error.isRecoverable {
            throw .connectionLost(error)  // SCardBeginTransaction on a reset or stale connection
        } catch {
            throw Failure(error)
        }
    }
}

extension PIVToken.Failure {
    /// What a transaction's body or PC/SC threw, as the token's failure.
    init(_ error: any Error) {
        switch error {
        case let failure as PIVToken.Failure: self = failure
        case let error as PCSCError: self = .transport(error)
        default: self = .malformed("\(error)")
        }
    }
}
