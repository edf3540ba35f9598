import DurableFiles
import Foundation
import Hummingbird
import Logging

/// Gives every request its role from the client certificate — the connection's, or the one a
/// configured front proxy forwarded — or refuses it.
struct IdentityMiddleware: RouterMiddleware {
    typealias Context = HubRequestContext
    let store: HubStore
    let officeCodes: Set<String>
    let forwarded: ForwardedIdentity
    let revocations: Revocations?
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let connection = try await ClientIdentity.certificate(channel: context.channel)
        var name = connection.flatMap(ClientIdentity.commonName)
        context.certificate = connection
        // A connection kept open from before the revocation (a box's long polls reuse theirs) is
        // refused from its next request; new ones are closed after the handshake (RevocationGuard).
        if let connection, let revocations, let date = revocations.revocationDate(of: connection) {
            revocations.logRefusal(of: connection, revokedAt: date, peer: context.channel.remoteAddress?.description ?? "?")
            throw HubError(.unknownClient, "Chứng thư số đã bị thu hồi", "The certificate is revoked")
        }
        do {
            switch try forwarded.decide(connectionCommonName: name, headerValues: request.headers[values: ForwardedIdentity.header]) {
            case .direct: break
            case .forwarded(let certificate):
                try await forwarded.verify(certificate, now: Date())
                // hubd's CRL applies behind a proxy too, so a box revoked here is refused at once
                // even while nginx still holds the previous CRL (it reads ssl_crl on reload only).
                if revocations?.revocationDate(of: certificate) != nil {
                    throw HubError(.forwardedIdentity, "Chứng thư số được chuyển tiếp đã bị thu hồi", "The forwarded certificate is revoked")
                }
                name = ClientIdentity.commonName(certificate)
                context.certificate = certificate
            }
        } catch {
            // A forged header or a misconfigured proxy: the hub's technician should see it.
            logger.warning("forwarded identity refused", metadata: ["connection": "\(name ?? "")", "error": "\(error)"])
            throw error
        }
        context.role = try ClientIdentity.role(commonName: name, served: try store.servedCommunes(), officeCodes: officeCodes)
        return try await next(request, context)
    }
}

/// Turns every error into the JSON error body of docs/protocol.md; unexpected ones are logged and
/// answered without their details.
struct HubErrorMiddleware: RouterMiddleware {
    typealias Context = HubRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HubError {
            // `busy` is a client's to retry later, logged where it arises if at all (a quota refusal
            // on one line per ten seconds): a line per refusal would let a looping box flood the log.
            if error.code.retry, error.code != .busy {
                logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            }
            var response = error.response
            // tus core: every answer on the upload routes says which version the server speaks.
            if request.uri.path.hasPrefix("/v1/uploads") { response.headers[HubServer.tusResumable] = Tus.version }
            return response
        } catch let error as HTTPError where error.status == .notFound {
            return HubError.notFound("đường dẫn / route").response
        } catch let error as HTTPError where error.status.code < 500 {
            return HubError(.badRequest, "Yêu cầu không hợp lệ", error.body ?? "Bad request").response
        } catch let error as SystemCallError {
            logger.error("storage failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return HubError(.storage, "Hub không ghi được vào đĩa; thử lại sau", "The hub could not write to its disk; try again later").response
        } catch {
            logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return HubError(.internal, "Lỗi nội bộ của hub; xem nhật ký hubd", "Internal error in the hub; see the hubd log").response
        }
    }
}
