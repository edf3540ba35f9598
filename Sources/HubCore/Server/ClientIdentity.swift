import Hummingbird
import NIOCore
import NIOSSL
import X509

/// The request context of hubd's routes: Hummingbird's, plus the connection, whose TLS layer
/// knows the client certificate that was verified during the handshake.
package struct HubRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    let channel: any Channel
    /// Set by `IdentityMiddleware` before any route runs.
    var role: Role?
    /// The certificate `role` comes from (the connection's, or the one a front proxy forwarded):
    /// renewal compares the new request with it.
    var certificate: Certificate?

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Who is calling, from the certificate's subject CN (docs/protocol.md, "Transport and identity").
package enum Role: Sendable, Equatable {
    case box(String)
    case office(String)

    var code: String {
        switch self {
        case .box(let code), .office(let code): code
        }
    }
}

enum ClientIdentity {
    /// The subject CN of a certificate; nil unless there is exactly one (two CNs would leave the
    /// choice of identity to whoever made the certificate).
    static func commonName(_ certificate: Certificate) -> String? { commonName(subject: certificate.subject) }

    static func commonName(subject: DistinguishedName) -> String? {
        var names: [String] = []
        for rdn in subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                if let name = String(attribute.value) { names.append(name) }
            }
        }
        return names.count == 1 ? names[0] : nil
    }

    /// The verified peer certificate. The TLS layer has refused any connection without a valid
    /// certificate from the configured CA, so reaching here means it was verified.
    static func certificate(channel: any Channel) async throws -> Certificate? {
        guard let peer = try await channel.nioSSL_peerCertificate().get() else { return nil }
        return try Certificate(derEncoded: try peer.toDERBytes())
    }

    static func role(commonName: String?, served: Set<String>, officeCodes: Set<String>) throws(HubError) -> Role {
        guard let commonName else {
            throw HubError(.unknownClient, "Chứng thư số không có đúng một CN", "The certificate does not have exactly one CN")
        }
        if officeCodes.contains(commonName) { return .office(commonName) }
        if served.contains(commonName) { return .box(commonName) }
        throw HubError(.unknownClient, "Mã \(commonName) không phải xã do hub này phục vụ", "\(commonName) is not a commune this hub serves")
    }
}
