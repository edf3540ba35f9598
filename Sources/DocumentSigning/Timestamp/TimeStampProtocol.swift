import Foundation
import Signing
import SwiftASN1
import X509

/// Why a timestamp could not be had or cannot be believed (Vietnamese / English).
package enum TimeStampError: Error, CustomStringConvertible, Sendable {
    case unreachable(String)
    case rejected(status: Int, text: String)
    case malformed(String)
    case mismatch(String)
    case badSignature(String)

    package var description: String {
        switch self {
        case .unreachable(let reason):
            "máy chủ dấu thời gian (TSA) không trả lời, chưa ký gì / the timestamp authority (TSA) did not answer, nothing was signed: \(reason)"
        case .rejected(let status, let text):
            "TSA từ chối yêu cầu (trạng thái \(status)) / the TSA refused the request (status \(status))\(text.isEmpty ? "" : ": \(text)")"
        case .malformed(let reason):
            "câu trả lời của TSA không đúng cấu trúc / the TSA's answer is malformed: \(reason)"
        case .mismatch(let what):
            "dấu thời gian không khớp yêu cầu (\(what)) / the timestamp does not match the request (\(what))"
        case .badSignature(let reason):
            "chữ ký của dấu thời gian không đúng / the timestamp token's signature does not verify: \(reason)"
        }
    }
}

/// What a verified RFC 3161 timestamp token says.
package struct TimeStampInfo: Sendable {
    package let generationTime: Date
    package let policy: ASN1ObjectIdentifier
    package let serialNumber: [UInt8]
    package let imprintAlgorithm: ASN1ObjectIdentifier
    package let imprint: [UInt8]
    /// The INTEGER's content bytes, as sent.
    package let nonce: [UInt8]?
    package let tsaCertificate: Certificate
    package let certificates: [Certificate]
}

/// RFC 3161 time-stamp protocol messages (pure): the request, the response's status and token,
/// and the token itself — a CMS SignedData whose content is a TSTInfo.
package enum TimeStampProtocol {
    static let tstInfo: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 9, 16, 1, 4]

    /// ```
    /// TimeStampReq ::= SEQUENCE { version INTEGER { v1(1) }, messageImprint MessageImprint,
    ///   reqPolicy TSAPolicyId OPTIONAL, nonce INTEGER OPTIONAL, certReq BOOLEAN DEFAULT FALSE,
    ///   extensions [0] IMPLICIT Extensions OPTIONAL }
    /// MessageImprint ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, hashedMessage OCTET STRING }
    /// ```
    /// certReq is set: the TSA's certificate must be in the token, or the token cannot be checked
    /// later by someone who does not have it.
    package static func request(imprint: [UInt8], digest: DigestAlgorithm, nonce: [UInt8]) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.appendConstructedNode(identifier: .sequence) { request in
            try request.serialize(1)
            try request.appendConstructedNode(identifier: .sequence) { messageImprint in
                try messageImprint.serialize(CMSOID.digestIdentifier(digest))
                try messageImprint.serialize(ASN1OctetString(contentBytes: imprint[...]))
            }
            try request.serialize(IntegerBytesDER(bytes: nonce))
            try request.serialize(true)
        }
        return serializer.serializedBytes
    }

    /// A positive INTEGER's content bytes of `count` random bytes (first byte 1…127: minimal
    /// DER, never negative).
    static func randomNonce(count: Int = 8) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return [UInt8.random(in: 1...0x7F, using: &generator)] + (1..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// ```
    /// TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }
    /// PKIStatusInfo ::= SEQUENCE { status PKIStatus, statusString PKIFreeText OPTIONAL, failInfo PKIFailureInfo OPTIONAL }
    /// ```
    /// The token's DER when the status is granted (0) or grantedWithMods (1).
    package static func token(fromResponse bytes: [UInt8]) throws -> [UInt8] {
        let root: ASN1Node
        do { root = try DER.parse(bytes) } catch { throw TimeStampError.malformed("not DER (\(error))") }
        guard case .constructed(let parts) = root.content, root.identifier == .sequence, let statusInfo = parts.first(where: { _ in true }),
              case .constructed(let statusParts) = statusInfo.content, let statusNode = statusParts.first(where: { _ in true }) else {
            throw TimeStampError.malformed("no PKIStatusInfo")
        }
        let status: Int
        do { status = try Int(derEncoded: statusNode) } catch { throw TimeStampError.malformed("bad PKIStatus") }
        guard status == 0 || status == 1 else {
            var text: [String] = []
            for node in statusParts.dropFirst() where node.identifier == .sequence {
                if case .constructed(let strings) = node.content {
                    for string in strings { if let value = try? ASN1UTF8String(derEncoded: string) { text.append(String(value)) } }
                }
            }
            throw TimeStampError.rejected(status: status, text: text.joined(separator: "; "))
        }
        guard let token = Array(parts).dropFirst().first else { throw TimeStampError.malformed("granted without a token") }
        return Array(token.encodedBytes)
    }

    /// Checks the token's own CMS signature (the message-digest over the TSTInfo, the signature
    /// over the signed attributes with the TSA certificate in the token) and reads the TSTInfo.
    /// Whether the TSA is trusted is the caller's question (it needs the anchors).
    package static func verifyToken(_ token: [UInt8]) throws -> TimeStampInfo {
        let parsed: ParsedSignedData
        do { parsed = try CMSSignedDataParser.parse(token) } catch { throw TimeStampError.malformed("token: \(error)") }
        guard parsed.encapsulatedContentType == tstInfo, let content = parsed.encapsulatedContent else {
            throw TimeStampError.malformed("the token's content is not a TSTInfo")
        }
        guard let tsa = parsed.signerCertificate else { throw TimeStampError.badSignature("the TSA's certificate is not in the token") }
        guard let digest = VerificationDigest(oid: parsed.digestAlgorithm.algorithm) else {
            throw TimeStampError.badSignature("unsupported digest \(parsed.digestAlgorithm.algorithm)")
        }
        guard let signedAttributes = parsed.signedAttributesForSignature, let messageDigest = parsed.messageDigest,
              messageDigest == digest.hash(content) else {
            throw TimeStampError.badSignature("message-digest does not match the TSTInfo")
        }
        let scheme = try SignatureChecks.scheme(parsed.signatureAlgorithm, digest: digest)
        guard SignatureChecks.isValidSignature(parsed.signature, over: signedAttributes, scheme: scheme, key: tsa.publicKey) else {
            throw TimeStampError.badSignature("the signature does not verify with the TSA's key")
        }
        return try tstInfo(content, tsa: tsa, certificates: parsed.certificates)
    }

    /// ```
    /// TSTInfo ::= SEQUENCE { version INTEGER, policy TSAPolicyId, messageImprint MessageImprint,
    ///   serialNumber INTEGER, genTime GeneralizedTime, accuracy Accuracy OPTIONAL,
    ///   ordering BOOLEAN DEFAULT FALSE, nonce INTEGER OPTIONAL, tsa [0] GeneralName OPTIONAL,
    ///   extensions [1] IMPLICIT Extensions OPTIONAL }
    /// ```
    static func tstInfo(_ bytes: [UInt8], tsa: Certificate, certificates: [Certificate]) throws -> TimeStampInfo {
        do {
            let root = try DER.parse(bytes)
            let parts = try CMSSignedDataParser.children(root, "TSTInfo")
            guard parts.count >= 5 else { throw TimeStampError.malformed("TSTInfo has too few fields") }
            let imprintParts = try CMSSignedDataParser.children(parts[2], "MessageImprint")
            guard imprintParts.count == 2 else { throw TimeStampError.malformed("bad MessageImprint") }
            guard case .primitive(let serial) = parts[3].content else { throw TimeStampError.malformed("bad serialNumber") }
            // After genTime: accuracy (SEQUENCE), ordering (BOOLEAN), then the nonce is the only INTEGER.
            let nonce = parts.dropFirst(5).first { $0.identifier == .integer }.flatMap { node -> [UInt8]? in
                if case .primitive(let value) = node.content { return Array(value) }
                return nil
            }
            return TimeStampInfo(
                generationTime: try CMSSignedDataParser.date(parts[4]), policy: try ASN1ObjectIdentifier(derEncoded: parts[1]),
                serialNumber: Array(serial), imprintAlgorithm: try CMSSignedDataParser.algorithmIdentifier(imprintParts[0]).algorithm,
                imprint: Array(try ASN1OctetString(derEncoded: imprintParts[1]).bytes), nonce: nonce, tsaCertificate: tsa,
                certificates: certificates)
        } catch let error as TimeStampError {
            throw error
        } catch {
            throw TimeStampError.malformed("TSTInfo: \(error)")
        }
    }
}

/// Gets a signature timestamp (RFC 3161) for a signature value from a TSA over HTTP, and checks
/// the answer before it goes into the signature: granted, imprint and nonce as asked, and the
/// token's own signature valid. A failure throws: the caller writes nothing.
package struct TimeStampClient: Sendable {
    package let url: String
    let fetcher: any TrustFetcher

    package init(url: String, fetcher: any TrustFetcher) {
        self.url = url
        self.fetcher = fetcher
    }

    /// The token for `id-aa-signatureTimeStampToken`: the imprint is the SHA-256 of the
    /// SignerInfo's signature value (RFC 5652 / ETSI EN 319 122-1 §5.3).
    package func token(forSignature signatureValue: [UInt8]) async throws -> [UInt8] {
        let imprint = DigestAlgorithm.sha256.hash(signatureValue)
        let nonce = TimeStampProtocol.randomNonce()
        let request = try TimeStampProtocol.request(imprint: imprint, digest: .sha256, nonce: nonce)
        let answer: [UInt8]
        do { answer = try await fetcher.post(url: url, contentType: "application/timestamp-query", body: request) } catch {
            throw TimeStampError.unreachable("\(error)")
        }
        let token = try TimeStampProtocol.token(fromResponse: answer)
        let info = try TimeStampProtocol.verifyToken(token)
        guard info.imprintAlgorithm == CMSOID.sha256, info.imprint == imprint else { throw TimeStampError.mismatch("messageImprint") }
        guard info.nonce == nonce else { throw TimeStampError.mismatch("nonce") }
        return token
    }
}
