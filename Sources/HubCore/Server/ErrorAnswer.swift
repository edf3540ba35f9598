import DocumentModel
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A refusal as the hub answers it: its HTTP status, `Retry-After` when the code has one, and the
/// wire's error body (`RelayErrorBody`, docs/protocol.md "Errors").
extension HubError {
    var response: Response {
        var headers: HTTPFields = [.contentType: RelayWire.errorContentType]
        if let seconds = code.retryAfterSeconds { headers[.retryAfter] = "\(seconds)" }
        return Response(status: HTTPResponse.Status(code: code.httpStatus), headers: headers,
                        body: .init(byteBuffer: ByteBuffer(bytes: RelayErrorBody(code: code, vi: vi, en: en).encoded())))
    }
}
