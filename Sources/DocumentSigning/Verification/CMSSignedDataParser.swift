import Foundation
import SwiftASN1
import X509

/// What a detached CMS SignedData (RFC 5652) says about its first signer: enough to check the
/// signature, the content digest and the signer's certificate. Pure: bytes in, values out.
package struct ParsedSignedData: Sendable {
    package struct AlgorithmIdentifier: Sendable, Equatable {
        package let algorithm: ASN1ObjectIdentifier
        /// The DER of the parameters (RSASSA-PSS needs them), nil when absent.
        package let parameters: [UInt8]?
    }

    /// One ESS cert ID (RFC 5035 signing-certificate-v2, or RFC 2634 v1 with SHA-1).
    package struct SigningCertificateReference: Sendable, Equatable {
        package let hashAlgorithm: ASN1ObjectIdentifier
        package let hash: [UInt8]
    }

    package enum SignerIdentifier: Sendable, Equatable {
        case issuerAndSerial(issuer: DistinguishedName, serial: Certificate.SerialNumber)
        case subjectKeyIdentifier([UInt8])
    }

    package let certificates: [Certificate]
    package let signerIdentifier: SignerIdentifier
    package let digestAlgorithm: AlgorithmIdentifier
    package let signatureAlgorithm: AlgorithmIdentifier
    package let signature: [UInt8]
    /// The signed attributes re-encoded as a SET OF (tag 0x31): what the signature is over
    /// (RFC 5652 §5.4), though they are stored under [0] IMPLICIT. Nil when there are none.
    package let signedAttributesForSignature: [UInt8]?
    package let contentType: ASN1ObjectIdentifier?
    package let messageDigest: [UInt8]?
    package let signingTime: Date?
    /// Nil when the attribute is absent.
    package let signingCertificateReferences: [SigningCertificateReference]?
    /// Detached signatures have none; an attached one is read but not our use case.
    package let hasEncapsulatedContent: Bool
    /// eContentType, and eContent's octets when the content is encapsulated (a timestamp token's TSTInfo).
    package internal(set) var encapsulatedContentType: ASN1ObjectIdentifier?
    package internal(set) var encapsulatedContent: [UInt8]?
    /// The DER of each id-aa-signatureTimeStampToken among the unsigned attributes.
    package internal(set) var timestampTokens: [[UInt8]] = []
    package let signerCount: Int

    /// The certificate the signer identifier names, among those the SignedData carries.
    package var signerCertificate: Certificate? {
        certificates.first { certificate in
            switch signerIdentifier {
            case .issuerAndSerial(let issuer, let serial):
                return certificate.issuer == issuer && certificate.serialNumber == serial
            case .subjectKeyIdentifier(let identifier):
                guard let extensionValue = try? certificate.extensions.subjectKeyIdentifier else { return false }
                return Array(extensionValue.keyIdentifier) == identifier
            }
        }
    }
}

package enum CMSParseError: Error, CustomStringConvertible, Equatable {
    case malformed(String)

    package var description: String {
        switch self {
        case .malformed(let reason): "CMS không đúng cấu trúc: \(reason) / malformed CMS: \(reason)"
        }
    }
}

package enum CMSSignedDataParser {
    static let signingCertificateV1: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 9, 16, 2, 12]
    static let sha1: ASN1ObjectIdentifier = [1, 3, 14, 3, 2, 26]

    /// Parses a ContentInfo holding SignedData. Trailing bytes after the DER (the zero padding of
    /// a PDF's /Contents placeholder) are ignored.
    package static func parse(_ bytes: [UInt8]) throws -> ParsedSignedData {
        let signedData = try signedDataFields(bytes)
        let encapsulated = try children(signedData[2], "EncapsulatedContentInfo")
        let certificates = try self.certificates(signedData)
        guard let signerInfosNode = signedData.dropFirst(3).first(where: { $0.identifier == .set }) else {
            throw CMSParseError.malformed("no signerInfos")
        }
        let signerInfos = try children(signerInfosNode, "signerInfos")
        guard let signerInfoNode = signerInfos.first else { throw CMSParseError.malformed("no signer") }
        let signerInfo = try children(signerInfoNode, "SignerInfo")
        guard signerInfo.count >= 5 else { throw CMSParseError.malformed("SignerInfo has too few fields") }

        let signerIdentifier: ParsedSignedData.SignerIdentifier
        if signerInfo[1].identifier == .sequence {
            let issuerAndSerial = try children(signerInfo[1], "IssuerAndSerialNumber")
            guard issuerAndSerial.count == 2, case .primitive(let serial) = issuerAndSerial[1].content else {
                throw CMSParseError.malformed("bad IssuerAndSerialNumber")
            }
            signerIdentifier = .issuerAndSerial(issuer: try DistinguishedName(derEncoded: issuerAndSerial[0]),
                                                serial: Certificate.SerialNumber(bytes: serial))
        } else if case .primitive(let identifier) = signerInfo[1].content {
            signerIdentifier = .subjectKeyIdentifier(Array(identifier))
        } else {
            throw CMSParseError.malformed("bad signer identifier")
        }
        let digestAlgorithm = try algorithmIdentifier(signerInfo[2])
        var index = 3
        var attributes: [ASN1ObjectIdentifier: [ASN1Node]] = [:]
        var signedAttributesForSignature: [UInt8]?
        if signerInfo[index].identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
            var encoded = Array(signerInfo[index].encodedBytes)
            encoded[0] = 0x31  // [0] IMPLICIT SET OF → SET OF, as signed
            signedAttributesForSignature = encoded
            for attribute in try children(signerInfo[index], "signedAttrs") {
                let parts = try children(attribute, "Attribute")
                guard parts.count == 2 else { throw CMSParseError.malformed("bad attribute") }
                let type = try ASN1ObjectIdentifier(derEncoded: parts[0])
                guard attributes[type] == nil else { throw CMSParseError.malformed("attribute \(type) appears twice") }
                attributes[type] = try children(parts[1], "attribute values")
            }
            index += 1
        }
        guard signerInfo.count > index + 1 else { throw CMSParseError.malformed("SignerInfo has no signature") }
        let signatureAlgorithm = try algorithmIdentifier(signerInfo[index])
        let signature = try ASN1OctetString(derEncoded: signerInfo[index + 1])

        let contentType = try attributes[CMSOID.contentType]?.first.map { try ASN1ObjectIdentifier(derEncoded: $0) }
        let messageDigest = try attributes[CMSOID.messageDigest]?.first.map { Array(try ASN1OctetString(derEncoded: $0).bytes) }
        let signingTime = try attributes[CMSOID.signingTime]?.first.map(date)
        var references: [ParsedSignedData.SigningCertificateReference]?
        if let value = attributes[CMSOID.signingCertificateV2]?.first {
            references = try essCertIDs(value, version2: true)
        } else if let value = attributes[signingCertificateV1]?.first {
            references = try essCertIDs(value, version2: false)
        }
        var parsed = ParsedSignedData(
            certificates: certificates, signerIdentifier: signerIdentifier, digestAlgorithm: digestAlgorithm,
            signatureAlgorithm: signatureAlgorithm, signature: Array(signature.bytes),
            signedAttributesForSignature: signedAttributesForSignature, contentType: contentType, messageDigest: messageDigest,
            signingTime: signingTime, signingCertificateReferences: references, hasEncapsulatedContent: encapsulated.count > 1,
            signerCount: signerInfos.count)
        // EncapsulatedContentInfo ::= SEQUENCE { eContentType, eContent [0] EXPLICIT OCTET STRING OPTIONAL }
        if let type = encapsulated.first { parsed.encapsulatedContentType = try ASN1ObjectIdentifier(derEncoded: type) }
        if encapsulated.count > 1, let octets = try children(encapsulated[1], "eContent").first {
            parsed.encapsulatedContent = Array(try ASN1OctetString(derEncoded: octets).bytes)
        }
        // unsignedAttrs [1] IMPLICIT SET OF Attribute, after the signature.
        if signerInfo.count > index + 2,
           signerInfo[index + 2].identifier == ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific) {
            for attribute in try children(signerInfo[index + 2], "unsignedAttrs") {
                let parts = try children(attribute, "Attribute")
                guard parts.count == 2 else { throw CMSParseError.malformed("bad unsigned attribute") }
                if try ASN1ObjectIdentifier(derEncoded: parts[0]) == CMSOID.timeStampToken {
                    parsed.timestampTokens += try children(parts[1], "attribute values").map { Array($0.encodedBytes) }
                }
            }
        }
        return parsed
    }

    /// The length of the first DER element (tag, length, content), so padding after it can be cut.
    /// The fields of the SignedData a ContentInfo holds (at least version, digestAlgorithms,
    /// encapContentInfo and one more). Trailing bytes after the DER are ignored.
    static func signedDataFields(_ bytes: [UInt8]) throws -> [ASN1Node] {
        let length = try lengthOfFirstElement(bytes)
        let root: ASN1Node
        do { root = try DER.parse(Array(bytes[0..<length])) } catch { throw CMSParseError.malformed("not DER (\(error))") }
        let contentInfo = try children(root, "ContentInfo")
        guard contentInfo.count >= 2, try ASN1ObjectIdentifier(derEncoded: contentInfo[0]) == CMSOID.signedData else {
            throw CMSParseError.malformed("content type is not signedData")
        }
        let signedDataWrapper = try children(contentInfo[1], "[0] content")
        guard let signedDataNode = signedDataWrapper.first else { throw CMSParseError.malformed("empty content") }
        let signedData = try children(signedDataNode, "SignedData")
        guard signedData.count >= 4 else { throw CMSParseError.malformed("SignedData has too few fields") }
        return signedData
    }

    /// The X.509 certificates of a SignedData's `certificates [0]` field, in their order.
    static func certificates(_ signedData: [ASN1Node]) throws -> [Certificate] {
        var certificates: [Certificate] = []
        for node in signedData.dropFirst(3) where node.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
            for certificateNode in try children(node, "certificates") where certificateNode.identifier == .sequence {
                // Attribute certificates and other choices are skipped; a bad X.509 one is an error.
                do { certificates.append(try Certificate(derEncoded: certificateNode)) } catch {
                    throw CMSParseError.malformed("a certificate does not parse (\(error))")
                }
            }
        }
        return certificates
    }

    static func lengthOfFirstElement(_ bytes: [UInt8]) throws -> Int {
        guard bytes.count >= 2, bytes[0] == 0x30 else { throw CMSParseError.malformed("does not start with a SEQUENCE") }
        let first = Int(bytes[1])
        if first < 0x80 { return min(bytes.count, 2 + first) }
        let lengthBytes = first & 0x7F
        // 0x80 is BER's indefinite length, which DER forbids; more than 4 bytes is absurd here.
        guard lengthBytes >= 1, lengthBytes <= 4, bytes.count >= 2 + lengthBytes else {
            throw CMSParseError.malformed("unsupported length encoding (BER indefinite length?)")
        }
        let length = bytes[2..<(2 + lengthBytes)].reduce(0) { $0 << 8 | Int($1) }
        guard 2 + lengthBytes + length <= bytes.count else { throw CMSParseError.malformed("truncated: declares \(length) bytes") }
        return 2 + lengthBytes + length
    }

    static func children(_ node: ASN1Node, _ what: String) throws -> [ASN1Node] {
        guard case .constructed(let nodes) = node.content else { throw CMSParseError.malformed("\(what) is not constructed") }
        return Array(nodes)
    }

    static func algorithmIdentifier(_ node: ASN1Node) throws -> ParsedSignedData.AlgorithmIdentifier {
        let parts = try children(node, "AlgorithmIdentifier")
        guard let first = parts.first else { throw CMSParseError.malformed("empty AlgorithmIdentifier") }
        let parameters = parts.count > 1 ? Array(parts[1].encodedBytes) : nil
        return .init(algorithm: try ASN1ObjectIdentifier(derEncoded: first), parameters: parameters == [0x05, 0x00] ? nil : parameters)
    }

    /// `Time ::= CHOICE { utcTime, generalTime }` (RFC 5652 §11.3) as a Date; also the CRL's
    /// times in hubd (the same CHOICE, RFC 5280 § 5.1.2.4).
    package static func date(_ node: ASN1Node) throws -> Date {
        var components = DateComponents()
        components.timeZone = TimeZone(identifier: "UTC")
        if node.identifier == .utcTime {
            let time = try UTCTime(derEncoded: node)
            (components.year, components.month, components.day) = (time.year, time.month, time.day)
            (components.hour, components.minute, components.second) = (time.hours, time.minutes, time.seconds)
        } else {
            let time = try GeneralizedTime(derEncoded: node)
            (components.year, components.month, components.day) = (time.year, time.month, time.day)
            (components.hour, components.minute, components.second) = (time.hours, time.minutes, time.seconds)
        }
        guard let date = Calendar(identifier: .gregorian).date(from: components) else { throw CMSParseError.malformed("bad signing-time") }
        return date
    }

    /// `SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies … }`,
    /// `ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT sha256, certHash OCTET STRING, issuerSerial … }`;
    /// v1's ESSCertID has no hashAlgorithm (always SHA-1).
    static func essCertIDs(_ node: ASN1Node, version2: Bool) throws -> [ParsedSignedData.SigningCertificateReference] {
        let signingCertificate = try children(node, "SigningCertificate")
        guard let certs = signingCertificate.first else { throw CMSParseError.malformed("empty SigningCertificate") }
        return try children(certs, "certs").map { certID in
            let parts = try children(certID, "ESSCertID")
            var hashAlgorithm = version2 ? CMSOID.sha256 : sha1
            var position = 0
            if version2, let first = parts.first, first.identifier == .sequence {
                hashAlgorithm = try algorithmIdentifier(first).algorithm
                position = 1
            }
            guard parts.count > position else { throw CMSParseError.malformed("ESSCertID without a hash") }
            return .init(hashAlgorithm: hashAlgorithm, hash: Array(try ASN1OctetString(derEncoded: parts[position]).bytes))
        }
    }
}
