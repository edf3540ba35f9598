import SwiftASN1
import X509

/// The "certs-only" CMS message (RFC 5652 § 5, RFC 8551 § 3.8, RFC 7030 § 4.1.3): a SignedData
/// with no signers and no content, only a bag of certificates. EST answers `/cacerts` and
/// `/simpleenroll` with it; the hub writes it, the box and the tests read it.
///
///     ContentInfo ::= SEQUENCE { contentType id-signedData, content [0] EXPLICIT SignedData }
///     SignedData ::= SEQUENCE { version 1, digestAlgorithms SET {}, encapContentInfo { id-data },
///                               certificates [0] IMPLICIT SET OF Certificate, signerInfos SET {} }
package enum CMSCertificatesOnly {
    /// The DER of the message; the certificates in the given order (EST: the issued one first).
    package static func encode(_ certificates: [Certificate]) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.appendConstructedNode(identifier: .sequence) { contentInfo in
            try contentInfo.serialize(CMSOID.signedData)
            try contentInfo.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) { explicit in
                try explicit.appendConstructedNode(identifier: .sequence) { signedData in
                    try signedData.serialize(1)
                    signedData.appendConstructedNode(identifier: .set) { _ in }
                    try signedData.appendConstructedNode(identifier: .sequence) { try $0.serialize(CMSOID.data) }
                    // Written in the caller's order, not sorted as DER's SET OF would: EST clients
                    // (and RFC 7030 § 4.2.3) take the first certificate as the one issued.
                    try signedData.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) { set in
                        for certificate in certificates { set.serializeRawBytes(try DER.encode(certificate)) }
                    }
                    signedData.appendConstructedNode(identifier: .set) { _ in }
                }
            }
        }
        return serializer.serializedBytes
    }

    /// The certificates of a certs-only message (or of any SignedData), in their order.
    package static func decode(_ bytes: [UInt8]) throws -> [Certificate] {
        try CMSSignedDataParser.certificates(CMSSignedDataParser.signedDataFields(bytes))
    }
}
