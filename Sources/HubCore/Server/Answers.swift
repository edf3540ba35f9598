import DocumentModel
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The bodies hubd answers with: JSON, signed receipts and stored package files.
extension HubServer {
    static let packageKey = HTTPField.Name(RelayWire.Header.packageKey)!
    static let packageSHA256 = HTTPField.Name(RelayWire.Header.packageSHA256)!
    static let duplicateHeader = HTTPField.Name(RelayWire.Header.duplicate)!
    /// RFC 3986 unreserved characters, ASCII only: `.alphanumerics` would let "Đ" through into a header.
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(status: status, headers: [.contentType: RelayWire.errorContentType],
                 body: .init(byteBuffer: ByteBuffer(bytes: try RelayWire.encodeJSON(value))))
    }

    func receiptResponse(_ stored: HubStore.StoredPackage, status: HTTPResponse.Status) -> Response {
        receiptResponse(receipt: stored.receipt, key: stored.key, sha256: stored.sha256, duplicate: stored.duplicate, status: status)
    }

    func receiptResponse(receipt: [UInt8], key: String, sha256: String, duplicate: Bool, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [
            .contentType: "application/pkcs7-mime; smime-type=signed-data",
            Self.packageKey: key.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? "",
            Self.packageSHA256: sha256, Self.duplicateHeader: duplicate ? "true" : "false",
        ], body: .init(byteBuffer: ByteBuffer(bytes: receipt)))
    }

    func fileResponse(_ package: (path: String, sha256: String, size: Int64), context: HubRequestContext) async throws -> Response {
        let file = try await FileIO().loadFile(path: package.path, context: context)
        let (bodies, channel) = (bodiesInFlight, context.channel)
        // Streamed after the handler returns: registered while it is written, so shutdown can cut
        // a long download to a slow box.
        let body = ResponseBody(contentLength: file.contentLength) { writer in
            try await bodies.transferring(on: channel) { try await file.write(writer) }
        }
        return Response(status: .ok, headers: [
            .contentType: RelayWire.packageContentType, Self.packageSHA256: package.sha256,
        ], body: body)
    }
}
