// The commune software's API on the console's HTTPS (docs/api.md, docs/api.openapi.yaml): the
// local API's JSON under `/api/v1`, authenticated by an API key (`Authorization: Bearer …`)
// instead of a session: no cookies, so no CSRF (a browser never sends the header by itself).
// The handlers are the local API's own (LocalAPI: one intake, one listing, one error body);
// what is new here is the key's check, its role, and asking for signatures, which answers a link
// to the signing page: the API never takes a PIN.
import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import NIOCore

/// One route of the API: the table is both what the router registers and what the test checks
/// docs/api.openapi.yaml against.
struct APIRoute: Sendable {
    let method: HTTPRequest.Method
    /// Hummingbird's form, `{id}` for a parameter (the OpenAPI file's form too).
    let path: String
    /// nil: any key may call it (reading); otherwise only a key of this role.
    let role: APIKeyRole?
    let handler: @Sendable (Request, ConsoleContext, APIKeyRecord) async throws -> Response
}

extension ConsoleServer {
    static let apiPrefix = "/api/v1"
    static let apiBodyLimit = 64 * 1024

    /// The routes, all under `apiPrefix`. Without documents (tests of the foundation alone) they
    /// are still registered and answer `404 not_available`.
    func apiRoutes() -> [APIRoute] {
        let local = documents.map {
            LocalAPI(store: $0.store, parser: $0.intake.parser, hotFolder: nil, signedClaims: $0.intake.signedClaims, logger: logger)
        }
        @Sendable func needs() throws -> (LocalAPI, ConsoleDocuments) {
            guard let local, let documents else {
                throw APIError(status: .notFound, code: "not_available", vi: "Hộp này không phục vụ văn bản", en: "This box serves no documents")
            }
            return (local, documents)
        }
        @Sendable func id(_ context: ConsoleContext) -> String { context.parameters.get("id") ?? "" }
        return [
            APIRoute(method: .post, path: "/documents", role: .vanThu) { request, _, _ in try await needs().0.submit(request) },
            APIRoute(method: .post, path: "/attachments", role: .vanThu) { request, _, _ in try await needs().0.stageAttachment(request) },
            APIRoute(method: .get, path: "/documents", role: nil) { request, _, _ in try needs().0.list(request) },
            APIRoute(method: .get, path: "/documents/{id}", role: nil) { _, context, _ in try needs().0.show(id(context)) },
            APIRoute(method: .get, path: "/inbox", role: nil) { request, _, _ in
                let (local, documents) = try needs()
                return try local.inbox(request, inboxFolder: documents.inboxFolder ?? "")
            },
            APIRoute(method: .get, path: "/inbox/{id}", role: nil) { _, context, _ in
                let (local, _) = try needs()
                guard let hubID = Int64(id(context)), let item = try local.queries.inboxItem(hubID: hubID) else {
                    throw APIError(status: .notFound, code: "not_found", vi: "Không có văn bản đến số \(id(context))",
                                   en: "No incoming document \(id(context))")
                }
                return try local.json(item)
            },
            APIRoute(method: .post, path: "/inbox/{id}/status", role: .vanThu) { request, context, key in
                try await self.apiClerkStatus(request, hubID: id(context), key: key, needs())
            },
            APIRoute(method: .post, path: "/signature-requests", role: .vanThu) { request, _, key in
                try await self.apiSignatureRequest(request, key: key, needs())
            },
        ]
    }

    /// One line in ConsoleServer.router(): every route of the table, behind the key's gate, and
    /// the quản trị's page of keys (APIKeyPages.swift).
    func addAPIRoutes(_ router: Router<ConsoleContext>) {
        addAPIKeyPages(router)
        for route in apiRoutes() {
            router.on(RouterPath(Self.apiPrefix + route.path), method: route.method) { request, context in
                await self.apiGate(request, context, route)
            }
        }
    }

    // MARK: the gate

    /// The key, then its role, then the handler; every error becomes the local API's JSON body.
    /// A refused key is audited (who tried what from where); a request with no key at all is not
    /// a use of one and is only answered.
    func apiGate(_ request: Request, _ context: ConsoleContext, _ route: APIRoute) async -> Response {
        let path = request.uri.path
        var response: Response
        var handled = false
        do {
            let key = try apiKey(request, context)
            if let role = route.role, key.role != role {
                try accounts.audit(ConsoleAuditEntry(at: now(), actor: "api:\(key.name)", action: "api_key_refused", subject: path,
                                                     address: context.address, detail: "role \(key.role.rawValue)"))
                throw APIError(status: .forbidden, code: "forbidden", vi: "Khóa API này không được làm việc này (vai trò \(key.role.rawValue))",
                               en: "This API key may not do this (role \(key.role.rawValue))")
            }
            handled = true
            response = try await route.handler(request, context, key)
            // Every change made through a key is audited, as every action at the console is.
            if request.method == .post, (200..<300).contains(response.status.code) {
                try accounts.audit(ConsoleAuditEntry(at: now(), actor: "api:\(key.name)", action: "api_call", subject: path,
                                                     address: context.address, detail: "\(request.method.rawValue) \(response.status.code)"))
            }
        } catch {
            // Refused before the handler read the body: read and drop it, so that the client sees
            // our answer rather than a reset connection (a body is iterated only once). Only so
            // much: a caller without a key does not get to stream a whole document at us.
            if !handled, request.method == .post {
                var dropped = 0
                do {
                    for try await buffer in request.body {
                        dropped += buffer.readableBytes
                        if dropped > Self.apiBodyLimit { break }
                    }
                } catch {}
            }
            response = APIError.response(for: error, path: path, logger: logger)
        }
        if response.status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer realm=\"gatewayd\"" }
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// The key named by `Authorization: Bearer …`, known and not revoked; 401 otherwise.
    func apiKey(_ request: Request, _ context: ConsoleContext) throws -> APIKeyRecord {
        let unauthorized = APIError(status: .unauthorized, code: "unauthorized",
                                    vi: "Cần khóa API hợp lệ (Authorization: Bearer …)", en: "A valid API key is needed (Authorization: Bearer …)")
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else { throw unauthorized }
        let token = header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
        let known = token.isEmpty ? nil : try accounts.apiKey(tokenSHA256: Secrets.sha256(token))
        guard let key = known, key.revokedAt == nil else {
            try accounts.audit(ConsoleAuditEntry(at: now(), actor: known.map { "api:\($0.name)" } ?? "api:?", action: "api_key_refused",
                                                 subject: request.uri.path, address: context.address, detail: known == nil ? "unknown" : "revoked"))
            throw unauthorized
        }
        return key
    }

    /// A JSON object body of at most `apiBodyLimit` bytes.
    static func apiJSONObject(_ request: Request) async throws -> [String: Any] {
        let bytes: ByteBuffer
        do { bytes = try await request.body.collect(upTo: apiBodyLimit) } catch {
            throw APIError(status: .contentTooLarge, code: "too_large", vi: "Nội dung quá lớn", en: "The body is too large")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: bytes)) as? [String: Any] else {
            throw APIError(status: .badRequest, code: "bad_request", vi: "Nội dung phải là một đối tượng JSON", en: "The body must be a JSON object")
        }
        return object
    }

    // MARK: acting on the inbox

    /// `{"code": "03", "description": …, "staff": …}` through the relay's `recordClerkStatus`, as
    /// the inbox page does; `staff` defaults to the key's name.
    func apiClerkStatus(_ request: Request, hubID text: String, key: APIKeyRecord, _ needs: (LocalAPI, ConsoleDocuments)) async throws -> Response {
        let (local, documents) = needs
        let body = try await Self.apiJSONObject(request)
        guard let hubID = Int64(text) else { throw APIError(status: .badRequest, code: "bad_request", vi: "số nhận không hợp lệ", en: "the inbox id is not a number") }
        guard let code = body["code"] as? String, body["description"] == nil || body["description"] is String,
              body["staff"] == nil || body["staff"] is String else {
            throw APIError(status: .badRequest, code: "bad_request", vi: "nội dung phải là JSON {\"code\": \"03\", …}",
                           en: "the body must be JSON {\"code\": \"03\", …}")
        }
        guard let record = documents.recordStatus else {
            throw APIError(status: .conflict, code: "relay_off", vi: "Chưa cấu hình [upstream]: không gửi được trạng thái",
                           en: "[upstream] is not configured: statuses cannot be sent")
        }
        let description = body["description"] as? String
        do throws(RelayService.ClerkStatusRefusal) {
            try await record(hubID, code, description, (body["staff"] as? String) ?? key.name)
        } catch {
            throw APIError(error)
        }
        struct Recorded: Encodable { var hubID: Int64; var code: String; var description: String? }
        return try local.json(Recorded(hubID: hubID, code: code, description: description), status: .accepted)
    }

    // MARK: asking for signatures

    /// `{"documents": [ids]}`: the documents must wait for a signature; the answer is the link to
    /// the signing page with them chosen, for the leader (or the văn thư sealing) to open and type
    /// the PIN there. A body with a PIN is refused: the API never takes one, not even to drop it.
    func apiSignatureRequest(_ request: Request, key: APIKeyRecord, _ needs: (LocalAPI, ConsoleDocuments)) async throws -> Response {
        let (local, documents) = needs
        let body = try await Self.apiJSONObject(request)
        if body.keys.contains(where: { $0.lowercased().contains("pin") }) {
            try accounts.audit(ConsoleAuditEntry(at: now(), actor: "api:\(key.name)", action: "api_pin_refused", subject: request.uri.path))
            throw APIError(status: .badRequest, code: "pin_not_accepted",
                           vi: "API không bao giờ nhận mã PIN: người ký nhập PIN trên trang Ký số của hộp",
                           en: "The API never takes a PIN: the signer types it on the box's signing page")
        }
        guard body.keys.allSatisfy({ $0 == "documents" }), let ids = body["documents"] as? [String], (1...100).contains(ids.count) else {
            throw APIError(status: .badRequest, code: "bad_request", vi: "nội dung phải là JSON {\"documents\": [\"mã văn bản\", …]} (1–100 mã)",
                           en: "the body must be JSON {\"documents\": [\"document id\", …]} (1–100 ids)")
        }
        struct Waiting: Encodable { var id: String; var state: String; var subject: String? }
        var waiting: [Waiting] = []
        for text in ids {
            guard let id = DocumentID(text), let document = try documents.store.document(id) else { throw APIError.notFound(text) }
            guard document.state == .awaitingLeader || document.state == .awaitingSeal else {
                throw APIError(status: .conflict, code: "not_awaiting_signature",
                               vi: "Văn bản \(text) không chờ ký (trạng thái \(document.state.rawValue))",
                               en: "Document \(text) is not awaiting a signature (state \(document.state.rawValue))")
            }
            waiting.append(Waiting(id: text, state: document.state.rawValue, subject: document.metadata.subject))
        }
        // The address the software reached us at is the one the office's PCs reach us at.
        let host = request.head.authority ?? "localhost"
        let list = ids.joined(separator: ",").addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(["&", "+", "="])) ?? ""
        struct Answer: Encodable { var url: String; var documents: [Waiting] }
        return try local.json(Answer(url: "https://\(host)/signing?documents=\(list)", documents: waiting), status: .created)
    }
}

/// Making a key, the same from `gatewayd api-key add` and the console's API keys page: its
/// name checked as a login is, a random token shown once to the quản trị, its SHA-256 stored.
package enum APIKeys {
    /// The token to give the software, or the problem with the name.
    package static func add(name: String, role: APIKeyRole, by actor: String, address: String? = nil, rules: AccountRules,
                            accounts: AccountStore, now: Date = Date()) throws -> Result<String, AccountProblem> {
        if let problem = rules.check(login: name) { return .failure(problem) }
        let token = Secrets.randomToken()
        try accounts.addAPIKey(APIKeyRecord(name: name, role: role, createdAt: now, createdBy: actor), tokenSHA256: Secrets.sha256(token),
                               audit: ConsoleAuditEntry(at: now, actor: actor, action: "api_key_add", subject: name, address: address, detail: role.rawValue))
        return .success(token)
    }
}
