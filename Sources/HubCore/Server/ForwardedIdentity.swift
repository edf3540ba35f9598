import DocumentModel
import Foundation
import HTTPTypes
import SwiftASN1
import X509

/// A box's identity forwarded by a front proxy that terminated the box's mTLS (docs/hubd.md,
/// "Behind nginx"). The proxy sends the box's whole certificate, and hubd verifies it again
/// against its own client CA: hubd trusts the proxy to have held the TLS session with the
/// certificate's key, never to tell it who the box is.
struct ForwardedIdentity: Sendable {
    /// nginx: `proxy_set_header Hub-Client-Certificate $ssl_client_escaped_cert;` — the box's
    /// certificate in PEM, percent-encoded so that its line breaks fit in one header line.
    static let header = HTTPField.Name(RelayWire.Header.clientCertificate)!

    /// CNs of the certificates front proxies use towards hubd (`proxy.codes`).
    let proxyCodes: Set<String>
    /// The certificates of `server.client_ca`, every one a trust anchor, as OpenSSL treats the
    /// same file for the handshake.
    let clientRoots: [Certificate]

    init(proxyCodes: [String], clientRoots: [Certificate]) {
        self.proxyCodes = Set(proxyCodes)
        self.clientRoots = clientRoots
    }

    init(proxyCodes: [String], clientCAFile: String) throws {
        // Without a proxy configured the roots are never used: not reading the file keeps
        // hubd's start unchanged for the direct deployment.
        guard !proxyCodes.isEmpty else {
            self.init(proxyCodes: [], clientRoots: [])
            return
        }
        let text = try String(contentsOfFile: clientCAFile, encoding: .utf8)
        self.init(proxyCodes: proxyCodes, clientRoots: try PEMDocument.parseMultiple(pemString: text).map { try Certificate(pemDocument: $0) })
    }

    /// What one request says about forwarding, given who holds the connection.
    enum Decision: Equatable {
        /// Not a proxy and no forwarded header: the connection's own certificate speaks.
        case direct
        /// From a configured proxy: the box's certificate, still to be verified.
        case forwarded(Certificate)
    }

    /// Refused: a forwarded certificate from a connection that is not a configured proxy (a box
    /// trying to pass as another, or an nginx whose certificate is not in `proxy.codes`), and a
    /// proxy request without exactly one well-formed certificate. Refusing, rather than ignoring
    /// the header, makes a misconfigured proxy visible on the first request instead of letting
    /// its requests run under the proxy's own name.
    func decide(connectionCommonName: String?, headerValues: [String]) throws(HubError) -> Decision {
        let fromProxy = connectionCommonName.map(proxyCodes.contains) ?? false
        guard fromProxy else {
            guard headerValues.isEmpty else {
                throw HubError(.forwardedIdentity,
                               "Chỉ proxy đã khai báo trong proxy.codes mới được chuyển tiếp chứng thư số (\(Self.header.rawName))",
                               "Only a proxy listed in proxy.codes may forward a client certificate (\(Self.header.rawName))")
            }
            return .direct
        }
        guard headerValues.count == 1, let value = headerValues.first, !value.isEmpty else {
            throw HubError(.forwardedIdentity, "Proxy không chuyển tiếp đúng một chứng thư số của hộp",
                           "The proxy did not forward exactly one box certificate")
        }
        return .forwarded(try Self.certificate(escapedPEM: value))
    }

    /// The certificate in nginx's `$ssl_client_escaped_cert`: one PEM CERTIFICATE block,
    /// percent-encoded.
    static func certificate(escapedPEM: String) throws(HubError) -> Certificate {
        let unreadable = HubError(.forwardedIdentity, "Chứng thư số được chuyển tiếp không đọc được",
                                  "The forwarded certificate cannot be read")
        guard let pem = escapedPEM.removingPercentEncoding,
              let documents = try? PEMDocument.parseMultiple(pemString: pem), documents.count == 1,
              documents[0].discriminator == "CERTIFICATE",
              let certificate = try? Certificate(derEncoded: documents[0].derBytes) else { throw unreadable }
        return certificate
    }

    /// Verifies the forwarded certificate as the TLS layer verifies a direct one: a chain to a
    /// certificate of `server.client_ca`, valid at `now`, and, when it states its purposes, one
    /// of them client authentication.
    func verify(_ certificate: Certificate, now: Date) async throws(HubError) {
        var verifier = Verifier(rootCertificates: CertificateStore(clientRoots)) { RFC5280Policy(validationTime: now) }
        let result = await verifier.validate(leaf: certificate, intermediates: CertificateStore())
        guard case .validCertificate = result else {
            throw HubError(.forwardedIdentity, "Chứng thư số được chuyển tiếp không do CA của hub cấp hoặc đã hết hạn",
                           "The forwarded certificate is not from the hub's client CA or is not valid now")
        }
        switch Result(catching: { try certificate.extensions.extendedKeyUsage }) {
        case .success(nil): return
        case .success(let usages?) where usages.contains(.clientAuth) || usages.contains(.any): return
        default:
            throw HubError(.forwardedIdentity, "Chứng thư số được chuyển tiếp không dùng để xác thực máy khách",
                           "The forwarded certificate is not for client authentication")
        }
    }
}
