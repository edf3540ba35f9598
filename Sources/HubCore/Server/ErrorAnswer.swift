import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A refusal as the hub answers it: its HTTP status, `Retry-After` when the code has one, and the
/// JSON error body of docs/protocol.md ("Errors").
extension HubError {
    var response: Response {
        struct Body: Encodable {
            struct Inner: Encodable {
                let code: String
                let retry: Bool
                let message_vi: String
                let message_en: String
                let message: String
            }
            let error: Inner
        }
        let body = Body(error: .init(code: code.rawValue, retry: code.retry, message_vi: vi, message_en: en, message: "\(vi) / \(en)"))
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let seconds = code.retryAfterSeconds { headers[.retryAfter] = "\(seconds)" }
        return Response(status: HTTPResponse.Status(code: code.httpStatus), headers: headers,
                        body: .init(byteBuffer: ByteBuffer(bytes: (try? HubServer.encodeJSON(body)) ?? Data([0x0A]))))
    }
}
