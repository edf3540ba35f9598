import Crypto
import DocumentModel
import DurableFiles
import Foundation
import Logging
import X509

/// `gatewayd enroll` and the daemon's first start with a token: a key made here, a request for it,
/// the token spent at the hub, the certificate checked to be ours, then the pair written (docs/
/// protocol.md, "The box's side"). The key never leaves the data directory; only the request does.
package struct BoxEnrolment: Sendable {
    package let agencyCode: AgencyCode
    /// hubd's enrolment listener.
    package let enrolmentURL: String
    /// hubd's relay listener, where renewals go (mutual TLS).
    package let relayURL: String
    package let files: BoxIdentityFiles
    package let client: ESTClient

    package init(configuration: GatewayConfiguration, logger: Logger) throws(EnrolmentError) {
        guard let code = configuration.agency.code else {
            throw EnrolmentError(.notConfigured, vi: "Chưa cấu hình [agency] code (mã định danh của xã)", en: "[agency] code (this commune's code) is not configured")
        }
        guard let url = configuration.enrolment.url else {
            throw EnrolmentError(.notConfigured, vi: "Chưa cấu hình [enrolment] url (cổng ghi danh của hubd)", en: "[enrolment] url (hubd's enrolment listener) is not configured")
        }
        guard let relayURL = configuration.upstream.url, let caFile = configuration.upstream.caFile else {
            throw EnrolmentError(.notConfigured, vi: "Chưa cấu hình [upstream] url và ca_file", en: "[upstream] url and ca_file are not configured")
        }
        agencyCode = code
        enrolmentURL = url
        self.relayURL = relayURL
        files = BoxIdentityFiles(configuration: configuration)
        client = ESTClient(caFile: caFile, connectTimeout: configuration.upstream.connectTimeout, logger: logger)
    }

    /// Enrols with `token`, replacing whatever identity the box had (a revoked or expired box
    /// enrols again this way). Returns the certificate installed.
    @discardableResult
    package func enroll(token: String) async throws(EnrolmentError) -> Certificate {
        // The issuing CA first: an answer from a hub we do not trust stops here, before the token
        // is spent.
        let authorities = try await client.caCertificates(baseURL: enrolmentURL)
        let request = try Self.request(agencyCode)
        let chain = try await client.enroll(baseURL: enrolmentURL, request: request, agencyCode: agencyCode, token: token)
        try Self.check(chain, request: request, agencyCode: agencyCode, authorities: authorities)
        try write(chain, key: request)
        // Spent: firstboot's copy of the token goes, and the renewal starts a new schedule.
        POSIXFile.unlinkIfPresent(files.token)
        POSIXFile.unlinkIfPresent(files.state)
        return chain[0]
    }

    /// A new key and its request, or why not.
    static func request(_ agencyCode: AgencyCode) throws(EnrolmentError) -> CertificateRequest {
        do { return try CertificateRequest(agencyCode: agencyCode) } catch {
            throw EnrolmentError(.files, vi: "Không tạo được yêu cầu chứng thư số: \(error)", en: "Cannot make the certificate request: \(error)")
        }
    }

    /// The key and certificate beside the current pair, then renamed onto it.
    func write(_ chain: [Certificate], key request: CertificateRequest) throws(EnrolmentError) {
        let next = files.next
        try next.writeNewKey(request.key)
        try next.writeCertificate(chain)
        try files.install(from: next)
    }

    /// What the hub answered is a certificate for this box: our key, our agency code, issued by
    /// one of `authorities` (the hub's `/cacerts`) when they are known, and valid now.
    package static func check(_ chain: [Certificate], request: CertificateRequest, agencyCode: AgencyCode,
                              authorities: [Certificate]?, now: Date = Date()) throws(EnrolmentError) {
        guard let issued = chain.first else { throw .badAnswer("không có chứng thư số / no certificate") }
        guard issued.publicKey == request.publicKey else {
            throw .badAnswer("chứng thư số cấp về không mang khóa công khai của hộp / the certificate issued does not hold the box's public key")
        }
        let names = issued.subject.flatMap { $0 }.filter { $0.type == .RDNAttributeType.commonName }.map { String(describing: $0.value) }
        guard names == [agencyCode.description] else {
            throw .badAnswer("chứng thư số cấp cho \(names) chứ không phải \(agencyCode) / the certificate is for \(names), not \(agencyCode)")
        }
        if let authorities, !authorities.isEmpty, !authorities.contains(where: { $0.subject == issued.issuer }) {
            throw .badAnswer("chứng thư số không do CA của /cacerts cấp / the certificate was not issued by the CA of /cacerts")
        }
        guard issued.notValidBefore <= now.addingTimeInterval(300), now < issued.notValidAfter else {
            throw .badAnswer("chứng thư số cấp về không còn hiệu lực (kiểm tra đồng hồ của hộp) / the certificate issued is not valid now (check the box's clock)")
        }
    }
}
