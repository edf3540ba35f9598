import DocumentModel
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The bodies hubd answers with: JSON, signed receipts and stored package files.
extension HubServer {
    static let packageKey = HTTPField.Name("Hub-Package-Key")!
    static let packageSHA256 = HTTPField.Name("Hub-Package-SHA256")!
    static let duplicateHeader = HTTPField.Name("Hub-Duplicate")!
    /// RFC 3986 unreserved characters, ASCII only: `.alphanumerics` would let "Đ" through into a header.
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// Every JSON body the hub writes, errors included: sorted keys, a final newline.
    static func encodeJSON(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(0x0A)
        return data
    }

    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(bytes: try Self.encodeJSON(value))))
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
        let body = try await FileIO().loadFile(path: package.path, context: context)
        return Response(status: .ok, headers: [
            .contentType: "application/xml", Self.packageSHA256: package.sha256,
        ], body: body)
    }
}
