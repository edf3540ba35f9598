import AsyncHTTPClient
import DocumentSigning
import Foundation
import NIOCore
import NIOPosix

/// `TrustFetcher` over AsyncHTTPClient: OCSP requests and timestamp requests are small POSTs to
/// plain http:// URLs (RFC 6960 §A.1, RFC 3161 §3.4), answered by small DER bodies; CRLs are GETs.
///
/// Bounded: a connection attempt gives up after `connectTimeout` (AsyncHTTPClient otherwise keeps
/// retrying a refused connection until its 90 s default), the whole exchange after `deadline`,
/// and an answer larger than `maximumBytes` is refused. A client is made per request and shut
/// down after it: a signature needs at most a few requests, and no event loop outlives them.
package struct AsyncHTTPTrustFetcher: TrustFetcher {
    package var connectTimeout: TimeAmount
    package var deadline: TimeAmount
    package var maximumBytes: Int

    package init(connectTimeout: TimeAmount = .seconds(3), deadline: TimeAmount = .seconds(8), maximumBytes: Int = 1 << 20) {
        self.connectTimeout = connectTimeout
        self.deadline = deadline
        self.maximumBytes = maximumBytes
    }

    package func post(url: String, contentType: String, body: [UInt8]) async throws -> [UInt8] {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "Content-Length", value: String(body.count))
        request.body = .bytes(ByteBuffer(bytes: body))
        return try await perform(request, url: url, limit: maximumBytes)
    }

    /// CRLs are fetched by GET (RFC 5280 §4.2.1.13), and may be larger than an OCSP answer.
    package func get(url: String, maximumBytes: Int) async throws -> [UInt8] {
        try await perform(HTTPClientRequest(url: url), url: url, limit: maximumBytes)
    }

    func perform(_ request: HTTPClientRequest, url: String, limit: Int) async throws -> [UInt8] {
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else { throw TrustFetchError.badURL(url) }
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: connectTimeout, read: deadline)
        configuration.redirectConfiguration = .disallow
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        let result: Result<[UInt8], any Error>
        do {
            let response = try await client.execute(request, timeout: deadline)
            guard response.status.code == 200 else { throw TrustFetchError.httpStatus(url: url, status: Int(response.status.code)) }
            do {
                let buffer = try await response.body.collect(upTo: limit)
                result = .success(Array(buffer.readableBytesView))
            } catch is NIOTooManyBytesError {
                throw TrustFetchError.tooLarge(url: url, limit: limit)
            }
        } catch let error as TrustFetchError {
            result = .failure(error)
        } catch {
            result = .failure(TrustFetchError.unreachable(url: url, reason: "\(error)"))
        }
        try? await client.shutdown()
        return try result.get()
    }
}
