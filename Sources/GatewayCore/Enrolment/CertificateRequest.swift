import Crypto
import DocumentModel
import Foundation
import SwiftASN1
import X509

/// The PKCS#10 request the box sends (docs/protocol.md, "Enrolment"): a new ECDSA P-256 key made
/// on the box, the subject `CN=<agency code>` and nothing else — the hub decides the rest of the
/// certificate, so the request asks for no extension it would have to refuse.
package struct CertificateRequest: Sendable {
    package let key: P256.Signing.PrivateKey
    package let request: CertificateSigningRequest

    package init(agencyCode: AgencyCode, key: P256.Signing.PrivateKey = P256.Signing.PrivateKey()) throws {
        self.key = key
        let subject = try DistinguishedName { CommonName(agencyCode.description) }
        request = try CertificateSigningRequest(version: .v1, subject: subject, privateKey: Certificate.PrivateKey(key),
                                                attributes: CertificateSigningRequest.Attributes(), signatureAlgorithm: .ecdsaWithSHA256)
    }

    package var der: [UInt8] {
        var serializer = DER.Serializer()
        try! serializer.serialize(request)  // a request just built always serializes
        return serializer.serializedBytes
    }

    /// The EST body (RFC 7030 §4.2.1): base64 of the DER, in lines of 64.
    package var estBody: String { Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed]) + "\n" }

    package var publicKey: Certificate.PublicKey { Certificate.PublicKey(key.publicKey) }
}
