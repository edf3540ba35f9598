import DocumentModel
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SigningPolicy

/// The signing stage on the local API (docs/local-api.md, "Signing"): sessions, the people's
/// actions before signing (return, withdraw) and the register. The socket's permissions guard
/// them until the console adds users.
extension LocalAPI {
    func addSigningRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/signing-sessions") { request, _ in try await openSession(request) }
        router.get("/v1/signing-sessions/{id}") { request, context in try await session(request, id: context.parameters.get("id") ?? "") }
        router.post("/v1/documents/{id}/return") { request, context in
            try await act(request, id: context.parameters.get("id") ?? "", to: .returned)
        }
        router.post("/v1/documents/{id}/withdraw") { request, context in
            try await act(request, id: context.parameters.get("id") ?? "", to: .withdrawn)
        }
        router.put("/v1/documents/{id}/content") { request, context in try await replace(request, id: context.parameters.get("id") ?? "") }
        router.get("/v1/register") { request, _ in try register(request) }
    }

    var signingStage: SigningStage {
        get throws {
            guard let signing else {
                throw APIError(status: .conflict, code: "signing_off", vi: "gatewayd này không có khâu ký (không hỗ trợ token)",
                               en: "this gatewayd has no signing stage (no token support)")
            }
            return signing
        }
    }

    /// `{"role": "leader", "documents": [...], "reader": …, "key": "9c", "confirm_last_try": false,
    /// "opened_by": …, "pin": "…"}`. The PIN is taken out of the parsed body into the session's one
    /// buffer; the request's own bytes pass through the HTTP library's buffers, which are not ours
    /// to zero (docs/signing.md, "The PIN").
    func openSession(_ request: Request) async throws -> Response {
        let stage = try signingStage
        let object = try await Self.requestObject(request, upTo: 64 * 1024, keys: ["role", "documents", "reader", "key", "confirm_last_try", "opened_by", "pin"],
                                                  shape: "{\"role\": …, \"pin\": …}")
        guard case .string(let roleText)? = object["role"], let role = SigningRole(rawValue: roleText), role == .leader || role == .organization else {
            throw APIError.badRequest("\"role\": leader hoặc organization", "\"role\": leader or organization")
        }
        guard case .string(let pinText)? = object["pin"] else {
            throw APIError.badRequest("thiếu mã PIN (\"pin\")", "the PIN is missing (\"pin\")")
        }
        var documents: [DocumentID] = []
        if case .array(let items)? = object["documents"] {
            for item in items {
                guard case .string(let text) = item, let id = DocumentID(text) else {
                    throw APIError.badRequest("\"documents\": danh sách mã văn bản", "\"documents\": a list of document ids")
                }
                documents.append(id)
            }
        }
        func text(_ key: String) -> String? { if case .string(let value)? = object[key] { value } else { nil } }
        var confirm = false
        if case .bool(let value)? = object["confirm_last_try"] { confirm = value }
        var pinBytes = Array(pinText.utf8)
        let pin = SessionPIN(consuming: &pinBytes)
        let sessionRequest = SigningSessionRequest(role: role, documents: documents, reader: text("reader"), key: text("key"),
                                                   confirmLastTry: confirm, openedBy: text("opened_by") ?? "local API")
        let opened: SigningSessionStatus
        do throws(SigningSessionRefusal) { opened = try await stage.open(sessionRequest, pin: pin) } catch {
            throw APIError(error)
        }
        return try json(opened, status: .created)
    }

    /// `?after=N&wait=SECONDS`: answers once the session has more than N results or has ended
    /// (a long poll for progress), at most after `wait` seconds (default 0, at most 60).
    func session(_ request: Request, id: String) async throws -> Response {
        let stage = try signingStage
        let query = request.uri.queryParameters
        let after = query.get("after").flatMap(Int.init) ?? -1
        let wait = min(60, max(0, query.get("wait").flatMap(Int.init) ?? 0))
        guard let status = await stage.status(id, after: after, until: .now + .seconds(wait)) else {
            throw APIError(status: .notFound, code: "not_found", vi: "Không có phiên ký \(id)", en: "No signing session \(id)")
        }
        return try json(status)
    }

    /// `{"note": "…", "by": "…"}`: the leader returns a document to the clerk (a note is needed:
    /// the clerk must know what to change), or the clerk withdraws it.
    func act(_ request: Request, id text: String, to next: DocumentState) async throws -> Response {
        guard let id = DocumentID(text) else { throw APIError.badRequest("mã văn bản không hợp lệ \"\(text)\"", "\"\(text)\" is not a document id") }
        let bytes = try await request.body.collect(upTo: 64 * 1024)
        var note: String?
        var by: String?
        if bytes.readableBytes > 0 {
            guard case .object(let object)? = JSONValue.parse(Array(buffer: bytes)) else {
                throw APIError.badRequest("nội dung phải là JSON {\"note\": …}", "the body must be JSON {\"note\": …}")
            }
            if case .string(let value)? = object["note"] { note = value.trimmingCharacters(in: .whitespacesAndNewlines) }
            if case .string(let value)? = object["by"] { by = value }
        }
        if note?.isEmpty == true { note = nil }
        if next == .returned, note == nil {
            throw APIError.badRequest("trả lại cần ghi chú cho văn thư (\"note\")", "returning a document needs a note for the clerk (\"note\")")
        }
        let action = next == .returned ? "trả lại cho văn thư / returned to the clerk" : "rút lại, không gửi / withdrawn, not sent"
        let cause = [action, by.map { "bởi / by \($0)" }, note.map { "— \($0)" }].compactMap { $0 }.joined(separator: " ")
        do {
            let record = try store.act(on: id, to: next, cause: cause, at: Date())
            return try json(DocumentView(document: record))
        } catch let error as SigningStoreError {
            switch error {
            case .noDocument: throw APIError.notFound(text)
            default: throw APIError(status: .conflict, code: "not_before_signing", message: error.description)
            }
        }
    }

    /// The clerk's new file for a document nobody has signed yet (body = the bytes; `?by=NAME`
    /// for the history). The same checks as at intake (size, disk reserve, a PDF that opens).
    func replace(_ request: Request, id text: String) async throws -> Response {
        guard let id = DocumentID(text), let record = try store.document(id) else {
            try? await drain(request)
            throw APIError.notFound(text)
        }
        let staged = try await receive(request)
        do {
            try await PDFIntakeCheck.check(staged, fileName: record.fileName, contentType: request.headers[.contentType], on: store.ioPool)
        } catch {
            staged.discard()
            throw error
        }
        let by = request.uri.queryParameters.get("by").map { " bởi / by \($0)" } ?? ""
        do {
            let replaced = try await store.replaceContent(id, with: staged, cause: "văn thư thay tệp / the clerk replaced the file\(by)", at: Date())
            return try json(DocumentView(document: replaced))
        } catch let error as SigningStoreError {
            throw APIError(status: .conflict, code: "not_replaceable", message: error.description)
        }
    }

    /// The register of outgoing documents of `?year=` (default this year, Vietnam time).
    func register(_ request: Request) throws -> Response {
        let year = request.uri.queryParameters.get("year").flatMap(Int.init) ?? OutgoingRegister.year(of: Date())
        return try json(RegisterList(year: year, entries: try store.register(year: year)))
    }
}

/// `GET /v1/register`.
package struct RegisterList: Sendable, Codable {
    package var year: Int
    package var entries: [RegisterLine]
}
