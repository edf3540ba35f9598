import Foundation
import SigningPolicy

/// A holder's request to change their token's PIN (the console's "Đổi mã PIN"; a new token's PIN
/// must often be changed before its first use).
package struct PINChangeRequest: Sendable {
    /// The role the token signs in: a lãnh đạo changes the PIN of a leader's token (their own:
    /// `expectedIdentity`), a văn thư that of the organization's token. nil: a holder at the box's
    /// shell (`gateway-token change-pin` through the socket, `POST /v1/tokens/change-pin`), to
    /// whom no certificate rule applies — the socket's group already lets them sign any digest
    /// on any token (`POST /v1/tokens/sign`), and the tool alone never asked whose token it was;
    /// knowing the current PIN is what a PIN change asks. The stage's rule still holds.
    package var role: SigningRole?
    package var reader: String?
    package var key: String?
    package var confirmLastTry: Bool
    /// The certificate identity the token must carry ("CCCD:…"), for a lãnh đạo's own token.
    package var expectedIdentity: String?
    package var requestedBy: String

    package init(role: SigningRole?, reader: String?, key: String? = nil, confirmLastTry: Bool, expectedIdentity: String?, requestedBy: String) {
        (self.role, self.reader, self.key, self.confirmLastTry, self.expectedIdentity, self.requestedBy) =
            (role, reader, key, confirmLastTry, expectedIdentity, requestedBy)
    }
}

extension SigningStage {
    /// Changes the PIN of a token the person may use, by the token's own rules (`SigningTokens.
    /// changePIN`). Why through the stage and not straight to the token: the stage's one-at-a-time
    /// rule keeps a PIN change out of a running session (which holds the same token and would see
    /// its PIN change under it), and the same certificate rules decide whose token it is before
    /// any try is spent — a văn thư cannot change (and so lock out) a leader's token, nor a leader
    /// another leader's. Both PINs are wiped when it returns, whatever happened.
    package func changePIN(_ request: PINChangeRequest, current: SessionPIN, new: SessionPIN) async throws(SigningSessionRefusal) {
        defer { current.wipe(); new.wipe() }
        if let running {
            throw SigningSessionRefusal.sessionRunning(running)
        }
        running = "PIN"
        defer { running = nil }
        do throws(SigningSessionRefusal) {
            if let role = request.role { try await checkOwner(request, role: role, pin: current) }
            do throws(SessionTokenFailure) {
                try await tokens.changePIN(reader: request.reader, key: request.key, current: current, new: new, confirmLastTry: request.confirmLastTry)
            } catch { throw SigningSessionRefusal(error) }
        } catch {
            logger.notice("token PIN change refused", metadata: ["role": "\(request.role?.rawValue ?? "shell")", "code": "\(error.code)", "by": "\(request.requestedBy)"])
            throw error
        }
        logger.notice("token PIN changed", metadata: ["role": "\(request.role?.rawValue ?? "shell")", "reader": "\(request.reader ?? request.key ?? "-")", "by": "\(request.requestedBy)"])
    }

    /// The token's certificate, read without a PIN, must be allowed in the role (and be the
    /// person's own when an identity is expected). Revocation is not asked: a PIN change signs nothing.
    private func checkOwner(_ request: PINChangeRequest, role: SigningRole, pin: SessionPIN) async throws(SigningSessionRefusal) {
        let token: any SessionToken
        do throws(SessionTokenFailure) {
            token = try await tokens.open(reader: request.reader, key: request.key, pin: pin, confirmLastTry: request.confirmLastTry)
        } catch { throw SigningSessionRefusal(error) }
        let certificate = token.signer.certificateChain[0]
        token.close()
        switch SignerCheck.decide(role: role, certificate: certificate, leaders: settings.leaders, agency: settings.agency,
                                  revocation: .notChecked, requireRevocation: false, now: environment.now()) {
        case .allowed(let allowed):
            if let expected = request.expectedIdentity, !allowed.signer.identifiers.contains(where: { $0.description == expected }) {
                throw SigningSessionRefusal(
                    code: "not_your_token",
                    message: "token này là của \(allowed.signer.displayName) (\(allowed.signer.identifier)), không phải của bạn (\(expected)) — chỉ đổi PIN token của chính bạn / this token is \(allowed.signer.displayName)'s (\(allowed.signer.identifier)), not yours (\(expected)): change only your own token's PIN")
            }
        case .refused(let refusal):
            throw SigningSessionRefusal(refusal)
        }
    }
}
