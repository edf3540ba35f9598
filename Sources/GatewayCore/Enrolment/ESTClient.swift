import AsyncHTTPClient
import DocumentModel
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import X509

/// The box's side of the hub's EST profile (docs/protocol.md, "Enrolment"): `/cacerts` and
/// `simpleenroll` on the enrolment listener (the hub authenticated by `[upstream] ca_file`, the
/// box by its token), `simplereenroll` on the relay's listener over mutual TLS. One short-lived
/// HTTP client per exchange: enrolment happens once a year, and a renewal must not share a
/// connection (and so a certificate) with anything else.
package struct ESTClient: Sendable {
    package var caFile: String
    package var connectTimeout: Duration = .seconds(10)
    package var requestTimeout: Duration = .seconds(60)
    let logger: Logger

    package init(caFile: String, connectTimeout: Duration = .seconds(10), logger: Logger) {
        (self.caFile, self.connectTimeout, self.logger) = (caFile, connectTimeout, logger)
    }

    static let prefix = "/.well-known/est"
    /// Far more than a certs-only of two certificates; an answer larger is not the hub's.
    static let maximumAnswer = 256 << 10

    /// `GET /cacerts`: the CA that issues box certificates.
    package func caCertificates(baseURL: String) async throws(EnrolmentError) -> [Certificate] {
        let answer = try await exchange(baseURL: baseURL, path: "/cacerts", method: .GET, body: nil, authorization: nil, identity: nil)
        return try CertsOnly.certificates(fromBody: answer)
    }

    /// `POST /simpleenroll` with HTTP Basic (agency code : token). The certificates answered,
    /// the issued one first.
    package func enroll(baseURL: String, request: CertificateRequest, agencyCode: AgencyCode, token: String) async throws(EnrolmentError) -> [Certificate] {
        let credentials = Data("\(agencyCode.description):\(token)".utf8).base64EncodedString()
        let answer = try await exchange(baseURL: baseURL, path: "/simpleenroll", method: .POST, body: request.estBody,
                                        authorization: "Basic \(credentials)", identity: nil)
        return try CertsOnly.certificates(fromBody: answer)
    }

    /// `POST /simplereenroll` over mutual TLS with `identity`, the certificate being renewed.
    package func reenroll(baseURL: String, request: CertificateRequest, identity: BoxIdentityMaterial) async throws(EnrolmentError) -> [Certificate] {
        let answer = try await exchange(baseURL: baseURL, path: "/simplereenroll", method: .POST, body: request.estBody,
                                        authorization: nil, identity: identity)
        return try CertsOnly.certificates(fromBody: answer)
    }

    /// `GET /cacerts` on the relay's listener with `identity`: the hub accepts that certificate.
    package func probe(baseURL: String, identity: BoxIdentityMaterial) async throws(EnrolmentError) {
        _ = try await exchange(baseURL: baseURL, path: "/cacerts", method: .GET, body: nil, authorization: nil, identity: identity)
    }

    func exchange(baseURL: String, path: String, method: HTTPMethod, body: String?, authorization: String?,
                  identity: BoxIdentityMaterial?) async throws(EnrolmentError) -> [UInt8] {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.cipherSuites = TLSPolicy.tls12CipherSuites
        tls.certificateVerification = .fullVerification
        tls.trustRoots = .file(caFile)
        tls.shutdownTimeout = .seconds(1)
        if let identity {
            tls.certificateChain = identity.tlsChain.map { .certificate($0) }
            tls.privateKey = .privateKey(identity.tlsKey)
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow, decompression: .disabled)
        configuration.timeout = .init(connect: .nanoseconds(Int64(connectTimeout.nanoseconds)), read: .nanoseconds(Int64(requestTimeout.nanoseconds)))
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton), configuration: configuration)
        var request = HTTPClientRequest(url: baseURL + Self.prefix + path)
        request.method = method
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/pkcs10")
            request.headers.add(name: "Content-Transfer-Encoding", value: "base64")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let outcome: Result<(Int, [UInt8]), any Error>
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(Int64(requestTimeout.nanoseconds)), logger: logger)
            outcome = .success((Int(response.status.code), Array(buffer: try await response.body.collect(upTo: Self.maximumAnswer))))
        } catch {
            outcome = .failure(error)
        }
        try? await client.shutdown()
        guard case .success(let (status, bytes)) = outcome else {
            if case .failure(let error) = outcome { throw Self.connectionFailure(error, baseURL: baseURL, caFile: caFile, mutual: identity != nil) }
            throw .badAnswer("")
        }
        guard status == 200 else { throw Self.refusal(status: status, body: bytes, baseURL: baseURL) }
        return bytes
    }

    static func connectionFailure(_ error: any Error, baseURL: String, caFile: String, mutual: Bool) -> EnrolmentError {
        if RelayError.isTLSFailure(error) {
            let ours = mutual ? " hoặc cấp trên không nhận chứng thư số của hộp" : ""
            let oursEn = mutual ? ", or the hub did not accept the box's certificate" : ""
            return EnrolmentError(.tlsNotTrusted,
                                  vi: "Không tin được máy chủ cấp trên \(baseURL): chứng thư số của nó không thuộc CA trong [upstream] ca_file (\(caFile)) hoặc sai tên máy\(ours) (\(error))",
                                  en: "The hub \(baseURL) is not trusted: its certificate does not chain to the CA in [upstream] ca_file (\(caFile)) or names another host\(oursEn) (\(error))")
        }
        return EnrolmentError(.hubUnreachable,
                              vi: "Không kết nối được máy chủ cấp trên \(baseURL): kiểm tra mạng, tên máy và cổng (\(error))",
                              en: "Cannot reach the hub \(baseURL): check the network, the host name and the port (\(error))")
    }

    static func refusal(status: Int, body: [UInt8], baseURL: String) -> EnrolmentError {
        let hub = RelayErrorBody(decoding: body)?.error
        let said = hub.map { " — \($0.message_vi ?? $0.message ?? "") / \($0.message_en ?? $0.message ?? "")" } ?? ""
        switch status {
        case 401:
            return EnrolmentError(.tokenRefused,
                                  vi: "Cấp trên từ chối mã ghi danh: mã sai, đã dùng, hết hạn, bị thu hồi hoặc cấp cho đơn vị khác. Xin mã mới (hubd enroll-token create) rồi chạy gatewayd enroll --token …",
                                  en: "The hub refused the enrolment token: wrong, already used, expired, revoked or made for another agency. Ask for a new one (hubd enroll-token create), then run gatewayd enroll --token …")
        case 403:
            return EnrolmentError(.certificateRefused,
                                  vi: "Cấp trên không còn nhận chứng thư số của hộp (bị thu hồi hoặc không rõ): ghi danh lại bằng mã mới (gatewayd enroll --token …)\(said)",
                                  en: "The hub no longer accepts the box's certificate (revoked or unknown): enrol again with a new token (gatewayd enroll --token …)")
        case 400, 413:
            return EnrolmentError(.requestRefused, vi: "Cấp trên từ chối yêu cầu chứng thư số (HTTP \(status))\(said)",
                                  en: "The hub refused the certificate request (HTTP \(status))\(said)")
        case 404:
            return EnrolmentError(.badAnswer, vi: "\(baseURL) không phục vụ ghi danh (HTTP 404): kiểm tra [enrolment] url (cổng ghi danh của hubd, thường 8444)",
                                  en: "\(baseURL) does not serve enrolment (HTTP 404): check [enrolment] url (hubd's enrolment port, usually 8444)")
        default:
            return EnrolmentError(.hubUnreachable, vi: "Cấp trên trả lời HTTP \(status)\(said)", en: "The hub answered HTTP \(status)\(said)")
        }
    }
}
