import _CryptoExtras
import Crypto
import DocumentSigning
import Foundation
import SwiftASN1
import X509

/// hubd as a small issuing CA for box certificates (docs/protocol.md, "Enrolment"): checks a
/// box's PKCS#10 request and issues the certificate, signed with the hub's own CA key (`[ca]`,
/// the one that signs its CRL — docs/hubd.md says why one key and not two).
package struct BoxCertificateIssuer: Sendable {
    package let caCertificate: Certificate
    let caKey: Certificate.PrivateKey
    let lifetime: Duration

    package init(configuration: HubConfiguration) throws {
        (caCertificate, caKey) = try RevocationRegistry.issuingCA(configuration)
        lifetime = configuration.certificateLifetime
        // What it issues must open the main listener, which trusts `client_ca` only.
        guard try Revocations.issuers(configuration.clientCA).contains(caCertificate) else {
            throw RevocationError("Chứng thư số [ca] không có trong server.client_ca: hub sẽ không nhận chứng thư số nó cấp",
                                  "The [ca] certificate is not in server.client_ca: the hub would refuse the certificates it issues")
        }
    }

    /// The request the body carries: base64 of the DER (line breaks allowed, RFC 7030 § 4.2.1),
    /// or the DER itself; its signature made by its own key; a key the hub issues for.
    package static func request(body: [UInt8]) throws(HubError) -> CertificateSigningRequest {
        let der: [UInt8]
        if body.first == 0x30 {
            der = body
        } else if let decoded = Data(base64Encoded: String(decoding: body, as: UTF8.self), options: .ignoreUnknownCharacters) {
            der = Array(decoded)
        } else {
            throw badRequest("Yêu cầu CSR không phải base64", "The CSR is not base64")
        }
        let request: CertificateSigningRequest
        do { request = try CertificateSigningRequest(derEncoded: der) } catch {
            throw badRequest("Không đọc được CSR (PKCS#10)", "The CSR (PKCS#10) does not parse")
        }
        guard request.publicKey.isValidSignature(request.signature, for: request) else {
            throw badRequest("Chữ ký của CSR không đúng", "The CSR's signature does not verify")
        }
        let key = request.publicKey
        let accepted = P256.Signing.PublicKey(key) != nil || P384.Signing.PublicKey(key) != nil
            || (_RSA.Signing.PublicKey(key).map { $0.keySizeInBits >= 2048 } ?? false)
        guard accepted else {
            throw badRequest("Khóa không được chấp nhận: cần ECDSA P-256, P-384 hoặc RSA từ 2048 bit",
                             "Key refused: ECDSA P-256, P-384 or RSA of 2048 bits or more is needed")
        }
        return request
    }

    /// The CSR's one CN, which must be `agency`.
    package static func check(_ request: CertificateSigningRequest, isFor agency: String) throws(HubError) {
        let name = ClientIdentity.commonName(subject: request.subject)
        guard name == agency else {
            throw badRequest("CN của CSR (\(name ?? "không có")) không phải mã cơ quan \(agency)",
                             "The CSR's CN (\(name ?? "none")) is not the agency code \(agency)")
        }
    }

    /// The box certificate for `request`: subject CN=agency (O=name when known), the request's
    /// key, a random serial, clientAuth only, valid from five minutes ago (a box's clock a little
    /// behind) for the configured lifetime — never past the CA's own end.
    package func issue(_ request: CertificateSigningRequest, agency: String, name: String?, now: Date = Date()) throws -> Certificate {
        var serial = (0..<16).map { _ in UInt8.random(in: 0...255) }
        serial[0] = serial[0] & 0x7F | 0x40  // positive, and 16 bytes long whatever was drawn
        let seconds = TimeInterval(lifetime.components.seconds)
        let subject = try DistinguishedName {
            CommonName(agency)
            if let name, !name.isEmpty { OrganizationName(name) }
        }
        let caKeyIdentifier = (try? caCertificate.extensions.subjectKeyIdentifier)?.keyIdentifier
            ?? SubjectKeyIdentifier(hash: caCertificate.publicKey).keyIdentifier
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(bytes: serial), publicKey: request.publicKey,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: min(now.addingTimeInterval(seconds), caCertificate.notValidAfter),
            issuer: caCertificate.subject, subject: subject,
            signatureAlgorithm: RevocationListWriter.signatureAlgorithm(for: caKey),
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.clientAuth])
                SubjectKeyIdentifier(hash: request.publicKey)
                AuthorityKeyIdentifier(keyIdentifier: caKeyIdentifier)
            },
            issuerPrivateKey: caKey)
    }

    /// The record kept of an issue: the CSR as received and the certificate, both DER.
    package static func record(_ certificate: Certificate, request: CertificateSigningRequest, agency: String, renewedFrom: String? = nil) throws
        -> EnrolmentRecords.Issued {
        var csr = DER.Serializer()
        try csr.serialize(request)
        var der = DER.Serializer()
        try der.serialize(certificate)
        return .init(serial: SerialNumberText.text(certificate.serialNumber), agency: agency, notAfter: certificate.notValidAfter,
                     renewedFrom: renewedFrom, csr: csr.serializedBytes, certificate: der.serializedBytes)
    }

    /// The EST answer: base64 (with line breaks, as RFC 7030 § 4.2.3 shows) of a certs-only CMS.
    package func answer(issued: Certificate?) throws -> [UInt8] {
        let der = try CMSCertificatesOnly.encode((issued.map { [$0] } ?? []) + [caCertificate])
        return Array((Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed]) + "\n").utf8)
    }

    private static func badRequest(_ vi: String, _ en: String) -> HubError { HubError(.badRequest, vi, en) }
}
