import Logging
import Signing
import SwiftASN1
import X509

/// Digests to sign on a token for a program on the box (`POST /v1/tokens/sign`: `gateway-token
/// sign` while the daemon runs). The stage signs them because it already owns the tokens: the
/// daemon is the only process that opens a token (OpenSC's ePass2003 secure messaging breaks when
/// two processes share one), and within the daemon the stage's one-at-a-time rule keeps these
/// signatures, a signing session and a PIN change from ever driving a token at once.
package struct DigestSigningRequest: Sendable {
    /// As a session's: nil reader is the one reader with a token; `key` a PIV slot or a `pkcs11:` URI.
    package var reader: String?
    package var key: String?
    package var algorithm: SignatureAlgorithm
    /// Each `algorithm.digest.length` bytes long (checked by the route), signed in this order.
    package var digests: [[UInt8]]
    package var confirmLastTry: Bool
    /// For the log: who asked (the API says "local API").
    package var requestedBy: String

    package init(reader: String?, key: String?, algorithm: SignatureAlgorithm, digests: [[UInt8]], confirmLastTry: Bool, requestedBy: String) {
        (self.reader, self.key, self.algorithm, self.digests, self.confirmLastTry, self.requestedBy) =
            (reader, key, algorithm, digests, confirmLastTry, requestedBy)
    }
}

/// The signatures in the order of the digests (RSA raw, ECDSA DER), the certificate that checks
/// them and where the token was.
package struct SignedDigests: Sendable {
    package var signatures: [[UInt8]]
    package var certificate: [UInt8]
    package var location: String
}

extension SigningStage {
    /// Opens the token (its certificate read, no PIN), refuses an algorithm its key cannot make
    /// before any PIN is sent, signs every digest in that one session (one login on a PKCS#11
    /// token; a failure stops the rest, a wrong PIN is never tried twice) and closes it (C_Logout).
    /// The PIN is wiped when this returns, whatever happened. No certificate rule applies: this
    /// signs for a program the socket's permissions let in, as `gateway-token sign` always did.
    package func signDigests(_ request: DigestSigningRequest, pin: SessionPIN) async throws(SigningSessionRefusal) -> SignedDigests {
        defer { pin.wipe() }
        if let running {
            throw SigningSessionRefusal.sessionRunning(running)
        }
        running = "token sign"
        defer { running = nil }
        let logged: Logger.Metadata = ["algorithm": "\(request.algorithm)", "count": "\(request.digests.count)", "by": "\(request.requestedBy)"]
        let token: any SessionToken
        do throws(SessionTokenFailure) {
            token = try await tokens.open(reader: request.reader, key: request.key, pin: pin, confirmLastTry: request.confirmLastTry)
        } catch {
            logger.notice("token digests refused", metadata: logged.merging(["code": "\(error.code)"]) { $1 })
            throw SigningSessionRefusal(error)
        }
        defer { token.close() }
        let located = logged.merging(["location": "\(token.location)"]) { $1 }
        let signer = token.signer
        guard signer.keyType.algorithms.contains(request.algorithm) else {
            logger.notice("token digests refused", metadata: located.merging(["code": "algorithm"]) { $1 })
            throw SigningSessionRefusal(code: "algorithm", message: SignerError.algorithmNotSupported(request.algorithm, key: signer.keyType).description)
        }
        let certificate = try Self.der(signer.certificate)
        var signatures: [[UInt8]] = []
        for digest in request.digests {
            do {
                signatures.append(try await signer.sign(digest: digest, algorithm: request.algorithm))
            } catch {
                let failure = error as? SessionTokenFailure ?? .token("\(error)")
                logger.notice("token digests stopped", metadata: located.merging(["code": "\(failure.code)", "signed": "\(signatures.count)"]) { $1 })
                throw SigningSessionRefusal(failure)
            }
        }
        logger.notice("token digests signed", metadata: located)
        return SignedDigests(signatures: signatures, certificate: certificate, location: token.location)
    }

    /// The certificate `reader`/`key` name and the algorithms its key makes (preferred first), read
    /// without a PIN: what `gateway-token sign` without `--algorithm` needs before it hashes.
    package func tokenCertificate(reader: String?, key: String?) async throws(SigningSessionRefusal) -> (certificate: [UInt8], algorithms: [SignatureAlgorithm], location: String) {
        if let running { throw SigningSessionRefusal.sessionRunning(running) }
        running = "token certificate"
        defer { running = nil }
        // `SigningTokens.open` sends no PIN (it reads the certificate only), and nothing is signed
        // here, so the PIN given is a placeholder no token ever sees. Not an empty one: PIV's open
        // checks the PIN's form (6–8 digits) before it connects.
        var placeholder = Array("00000000".utf8)
        let pin = SessionPIN(consuming: &placeholder)
        defer { pin.wipe() }
        let token: any SessionToken
        do throws(SessionTokenFailure) {
            token = try await tokens.open(reader: reader, key: key, pin: pin, confirmLastTry: false)
        } catch { throw SigningSessionRefusal(error) }
        defer { token.close() }
        return (try Self.der(token.signer.certificate), token.signer.keyType.algorithms, token.location)
    }

    /// Work on the tokens that signs nothing (`GET /v1/tokens`' scan opens every token) held to
    /// the stage's one-at-a-time rule, so that it never drives a token while a session, a digest
    /// request or a PIN change does; refused `session_running` when the stage is busy.
    package func holdingTokens<Result: Sendable>(_ what: String, _ work: @Sendable () async -> Result) async throws(SigningSessionRefusal) -> Result {
        if let running { throw SigningSessionRefusal.sessionRunning(running) }
        running = what
        defer { running = nil }
        return await work()
    }

    static func der(_ certificate: Certificate) throws(SigningSessionRefusal) -> [UInt8] {
        do {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return serializer.serializedBytes
        } catch {
            throw SigningSessionRefusal(code: "token_error", message: "chứng thư của token không ghi lại được / the token's certificate cannot be encoded: \(error)")
        }
    }
}

extension SigningSessionRefusal {
    /// The stage's tokens are held by `running` (a session, a PIN change, a digest request).
    static func sessionRunning(_ running: String) -> SigningSessionRefusal {
        SigningSessionRefusal(code: "session_running",
                              message: "đang có một phiên ký khác (\(running)) — chờ phiên đó xong / another signing session (\(running)) is running: wait for it to end",
                              httpStatus: 409)
    }
}
