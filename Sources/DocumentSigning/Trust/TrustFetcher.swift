import Foundation

/// The one door through which certificate checks reach the network: an OCSP responder, a CRL
/// distribution point, a timestamp authority. DocumentSigning decides what to ask and judges the answer; how the bytes
/// travel is behind this protocol (AsyncHTTPClient in the TrustHTTP target), so the checking
/// logic stays free of NIO and the reader's fuzzer does not link a network stack.
package protocol TrustFetcher: Sendable {
    /// POSTs `body` as `contentType` and returns the body of a 200 answer. Implementations bound
    /// the whole exchange in time (the commune's link is often down) and the answer in size.
    func post(url: String, contentType: String, body: [UInt8]) async throws -> [UInt8]
    /// GETs a URL (a CRL distribution point), refusing an answer larger than `maximumBytes`.
    func get(url: String, maximumBytes: Int) async throws -> [UInt8]
}

/// Why a trust service could not be used. "Unreachable" is kept apart from "answered badly":
/// the first is normal for an offline box, the second is worth a technician's look.
package enum TrustFetchError: Error, CustomStringConvertible, Sendable {
    case unreachable(url: String, reason: String)
    case httpStatus(url: String, status: Int)
    case tooLarge(url: String, limit: Int)
    case badURL(String)

    package var description: String {
        switch self {
        case .unreachable(let url, let reason):
            "không kết nối được \(url): \(reason) / cannot reach \(url): \(reason)"
        case .httpStatus(let url, let status):
            "\(url) trả lời HTTP \(status) / \(url) answered HTTP \(status)"
        case .tooLarge(let url, let limit):
            "câu trả lời của \(url) quá \(limit) byte / the answer from \(url) exceeds \(limit) bytes"
        case .badURL(let url):
            "địa chỉ không hợp lệ: \(url) / not an http(s) URL: \(url)"
        }
    }
}
