import Crypto
import Foundation
import Signing
import SwiftASN1
import X509

/// Builds a detached CMS SignedData (RFC 5652) over a content digest, the private-key step done
/// by a `Signer` (token or key file): the host never sees a token's key, and never needs the
/// content itself, so a 200 MB file is hashed by streaming and signed in constant memory.
///
/// Signed attributes, as CAdES baseline B-B (ETSI EN 319 122-1 §5.2) asks:
/// content-type, message-digest, and ESS signing-certificate-v2 (the SHA-256 of the signer's
/// certificate and its issuer/serial, so the certificate cannot be swapped). The CAdES profile
/// adds signing-time; the PAdES profile must not (ETSI EN 319 142-1 §5.4: the time is the PDF
/// signature dictionary's /M).
package enum CMSSignedDataBuilder {
    package enum Profile: Sendable {
        /// A detached `.p7s` beside a file that is not a PDF.
        case cades
        /// The `/Contents` of a PDF signature (`/SubFilter /ETSI.CAdES.detached`).
        case pades
    }

    /// The DER of a ContentInfo holding the SignedData.
    /// `unsignedAttributes`: given the signature value, what to add after signing (an RFC 3161
    /// timestamp token for PAdES B-T / CAdES B-T); nil for none.
    /// `encapsulatedContent`: the content itself, carried inside (eContent) instead of detached —
    /// for small self-contained objects such as the hub's receipts; `contentDigest` must be its digest.
    package static func sign(
        contentDigest: [UInt8], signer: any Signer, algorithm: SignatureAlgorithm, profile: Profile, signingTime: Date = Date(),
        encapsulatedContent: [UInt8]? = nil,
        timestamp: (@Sendable (_ signatureValue: [UInt8]) async throws -> [UInt8])? = nil
    ) async throws -> [UInt8] {
        guard contentDigest.count == algorithm.digest.length else {
            throw SignerError.digestLength(expected: algorithm.digest.length, actual: contentDigest.count)
        }
        let leaf = signer.certificate
        var attributes = [
            CMSAttributeDER(type: CMSOID.contentType, values: [RawDER(bytes: try DER.encode(CMSOID.data))]),
            CMSAttributeDER(type: CMSOID.messageDigest, values: [RawDER(bytes: try DER.encode(ASN1OctetString(contentBytes: contentDigest[...])))]),
            CMSAttributeDER(type: CMSOID.signingCertificateV2, values: [RawDER(bytes: try signingCertificateV2(leaf))]),
        ]
        if profile == .cades {
            attributes.append(CMSAttributeDER(type: CMSOID.signingTime, values: [RawDER(bytes: try time(signingTime))]))
        }
        // What is signed is the DER of the attributes as a SET OF (tag 0x31, members in DER
        // order), though they are stored under [0] IMPLICIT (RFC 5652 §5.4).
        var setSerializer = DER.Serializer()
        try setSerializer.serializeSetOf(attributes)
        let signedAttributesAsSet = setSerializer.serializedBytes
        let signedAttributesContent = try contentOfConstructedNode(signedAttributesAsSet)

        let digest = algorithm.digest.hash(signedAttributesAsSet)
        let signature = try await signer.sign(digest: digest, algorithm: algorithm)
        let timestampToken = try await timestamp?(signature)

        var serializer = DER.Serializer()
        try serializer.appendConstructedNode(identifier: .sequence) { contentInfo in
            try contentInfo.serialize(CMSOID.signedData)
            try contentInfo.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) { explicit in
                try explicit.appendConstructedNode(identifier: .sequence) { signedData in
                    try signedData.serialize(1)  // version: issuerAndSerialNumber sids, id-data content
                    try signedData.serializeSetOf([CMSOID.digestIdentifier(algorithm.digest)])
                    try signedData.appendConstructedNode(identifier: .sequence) { encapsulated in
                        try encapsulated.serialize(CMSOID.data)
                        if let encapsulatedContent {  // eContent [0] EXPLICIT OCTET STRING; absent when detached
                            try encapsulated.serialize(ASN1OctetString(contentBytes: encapsulatedContent[...]),
                                                       explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific)
                        }
                    }
                    try signedData.serializeSetOf(try signer.certificateChain.map { RawDER(bytes: try DER.encode($0)) },
                                                  identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific))
                    try signedData.appendConstructedNode(identifier: .set) { signerInfos in
                        try signerInfos.appendConstructedNode(identifier: .sequence) { signerInfo in
                            try signerInfo.serialize(1)
                            try signerInfo.appendConstructedNode(identifier: .sequence) { sid in
                                try sid.serialize(leaf.issuer)
                                try sid.serialize(IntegerBytesDER(bytes: Array(leaf.serialNumber.bytes)))
                            }
                            try signerInfo.serialize(CMSOID.digestIdentifier(algorithm.digest))
                            signerInfo.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) {
                                $0.serializeRawBytes(signedAttributesContent)
                            }
                            try signerInfo.serialize(try CMSOID.signatureIdentifier(algorithm))
                            try signerInfo.serialize(ASN1OctetString(contentBytes: signature[...]))
                            if let timestampToken {
                                try signerInfo.serializeSetOf(
                                    [CMSAttributeDER(type: CMSOID.timeStampToken, values: [RawDER(bytes: timestampToken)])],
                                    identifier: ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific))
                            }
                        }
                    }
                }
            }
        }
        return serializer.serializedBytes
    }

    /// `SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2 }` with one ESSCertIDv2:
    /// the certificate's SHA-256 (the default hash, so not named) and its issuer and serial.
    static func signingCertificateV2(_ certificate: Certificate) throws -> [UInt8] {
        let certificateHash = Array(SHA256.hash(data: try DER.encode(certificate)))
        var serializer = DER.Serializer()
        try serializer.appendConstructedNode(identifier: .sequence) { signingCertificate in
            try signingCertificate.appendConstructedNode(identifier: .sequence) { certs in
                try certs.appendConstructedNode(identifier: .sequence) { certID in
                    try certID.serialize(ASN1OctetString(contentBytes: certificateHash[...]))
                    try certID.appendConstructedNode(identifier: .sequence) { issuerSerial in
                        try issuerSerial.appendConstructedNode(identifier: .sequence) { generalNames in
                            // directoryName [4] EXPLICIT Name
                            try generalNames.serialize(certificate.issuer, explicitlyTaggedWithTagNumber: 4, tagClass: .contextSpecific)
                        }
                        try issuerSerial.serialize(IntegerBytesDER(bytes: Array(certificate.serialNumber.bytes)))
                    }
                }
            }
        }
        return serializer.serializedBytes
    }

    /// RFC 5652 §11.3: UTCTime through 2049, GeneralizedTime after.
    static func time(_ date: Date) throws -> [UInt8] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        if c.year! < 2050 {
            return try DER.encode(UTCTime(year: c.year!, month: c.month!, day: c.day!, hours: c.hour!, minutes: c.minute!, seconds: c.second!))
        }
        return try DER.encode(GeneralizedTime(year: c.year!, month: c.month!, day: c.day!, hours: c.hour!, minutes: c.minute!,
                                              seconds: c.second!, fractionalSeconds: 0))
    }

    /// The content octets of a DER constructed node (what is left after its tag and length).
    static func contentOfConstructedNode(_ der: [UInt8]) throws -> [UInt8] {
        let node = try DER.parse(der)
        guard case .constructed = node.content else { throw ASN1Error.invalidASN1Object(reason: "expected a constructed node") }
        return Array(node.encodedBytes.suffix(from: node.encodedBytes.startIndex + headerLength(der)))
    }

    private static func headerLength(_ der: [UInt8]) -> Int {
        guard der.count > 1 else { return der.count }
        let first = der[1]
        return first < 0x80 ? 2 : 2 + Int(first & 0x7F)
    }
}
