import DocumentModel
import DurableFiles
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TimeJSON

/// Refusals that are about the request rather than the document.
package struct APIError: Error, Sendable {
    let status: HTTPResponse.Status
    let code: String
    let vi: String
    let en: String

    package init(status: HTTPResponse.Status, code: String, vi: String, en: String) {
        (self.status, self.code, self.vi, self.en) = (status, code, vi, en)
    }

    /// From a message written "Vietnamese / English" (the signing stage's, the token's).
    init(status: HTTPResponse.Status, code: String, message: String) {
        let parts = message.components(separatedBy: " / ")
        let english = parts.count > 1 ? parts.dropFirst().joined(separator: " / ") : message
        self.init(status: status, code: code, vi: parts[0], en: english)
    }

    /// The signing stage's refusal (a session, a PIN change, the token routes), with its status.
    init(_ refusal: SigningSessionRefusal) {
        self.init(status: HTTPResponse.Status(code: refusal.httpStatus), code: refusal.code, message: refusal.message)
    }

    /// A clerk's status refused by the relay, as both APIs answer it (the console's `/api/v1` too).
    package init(_ refusal: RelayService.ClerkStatusRefusal) {
        switch refusal {
        case .noSuchDocument(let id):
            self.init(status: .notFound, code: "not_found", vi: "Không có văn bản đến số \(id)", en: "No incoming document \(id)")
        case .notAllowed(let code):
            let allowed = RelayService.clerkStatusCodes.map(\.description).joined(separator: "; ")
            self.init(status: .badRequest, code: "status_code", vi: "Mã trạng thái \"\(code)\" không dùng được; dùng: \(allowed)",
                      en: "Status code \"\(code)\" cannot be sent; use: \(allowed)")
        case .reasonRequired:
            self.init(status: .badRequest, code: "reason_required", vi: "Từ chối (02) cần ghi lý do (description)",
                      en: "A refusal (02) needs its reason (description)")
        case .cannotBuild(let detail):
            self.init(status: .internalServerError, code: "status_package", vi: "Không lập được gói trạng thái: \(detail)",
                      en: "Cannot build the status package: \(detail)")
        }
    }

    static func badRequest(_ vi: String, _ en: String) -> APIError { APIError(status: .badRequest, code: "bad_request", vi: vi, en: en) }
    package static func notFound(_ id: String) -> APIError {
        APIError(status: .notFound, code: "not_found", vi: "Không có văn bản mã \(id)", en: "No document with id \(id)")
    }

    /// The JSON error body for `error` (also the console's `/api/v1`, which has its own context).
    package static func response(for error: any Error, path: String, logger: Logger) -> Response {
        switch error {
        case let error as IntakeError:
            return APIErrorMiddleware.body(HTTPResponse.Status(code: error.code.httpStatus), error.code.rawValue, error.messageVi, error.messageEn, error.field)
        case let error as APIError:
            return APIErrorMiddleware.body(error.status, error.code, error.vi, error.en, nil)
        case let error as HTTPError where error.status == .notFound:
            return APIErrorMiddleware.body(.notFound, "not_found", "Không có đường dẫn này", "No such route", nil)
        case let error as HTTPError:
            return APIErrorMiddleware.body(error.status, "bad_request", "Yêu cầu không hợp lệ", error.body ?? "Bad request", nil)
        default:
            logger.error("local API request failed", metadata: ["error": "\(error)", "path": "\(path)"])
            return APIErrorMiddleware.body(.internalServerError, "internal", "Lỗi nội bộ; xem nhật ký của gatewayd", "Internal error; see the gatewayd log", nil)
        }
    }
}

/// Turns every error into the API's JSON error body; unexpected ones are logged and answered 500
/// without their details (they may hold paths or internals, never meant for a client).
struct APIErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return APIError.response(for: error, path: request.uri.path, logger: logger)
        }
    }

    static func body(_ status: HTTPResponse.Status, _ code: String, _ vi: String, _ en: String, _ field: String?) -> Response {
        let body = APIErrorBody(error: .init(code: code, messageVi: vi, messageEn: en, field: field))
        var data = (try? GatewayJSON.encoder.encode(body)) ?? Data("{}".utf8)
        data.append(0x0A)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

