import Crypto
import Foundation
import SwiftASN1
import X509

/// Writes the CRL of the hub's own issuing CA (`hubd revoke`): a v2 CertificateList (grammar in
/// RevocationList.swift) with a CRL number and each entry's reason, signed by the CA's key.
struct RevocationListWriter {
    struct Entry: Equatable, Codable {
        var agency: String
        /// Hex, as openssl prints it.
        var serial: String
        var date: Date
        var reason: Reason
    }

    /// CRLReason (RFC 5280 § 5.3.1), the values an operator has a use for.
    enum Reason: String, Codable, CaseIterable {
        case unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation

        var code: UInt8 {
            switch self {
            case .unspecified: 0
            case .keyCompromise: 1
            case .affiliationChanged: 3
            case .superseded: 4
            case .cessationOfOperation: 5
            }
        }
    }

    let caCertificate: Certificate
    let caKey: Certificate.PrivateKey

    /// The whole CRL in DER. `nextUpdate` matters: OpenSSL, and so nginx, refuses every client
    /// once it has passed, so the CRL must be written again before then (`hubd revoke --refresh`).
    func der(entries: [Entry], number: Int, thisUpdate: Date, nextUpdate: Date) throws -> [UInt8] {
        let algorithm = try signatureAlgorithm()
        var tbs = DER.Serializer()
        try tbs.appendConstructedNode(identifier: .sequence) { s in
            try s.serialize(1)  // v2
            try Self.serialize(algorithm, into: &s)
            try s.serialize(caCertificate.subject)
            try Self.serialize(thisUpdate, into: &s)
            try Self.serialize(nextUpdate, into: &s)
            if !entries.isEmpty {
                try s.appendConstructedNode(identifier: .sequence) { s in
                    for entry in entries { try Self.serialize(entry, into: &s) }
                }
            }
            try s.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) { s in
                try s.appendConstructedNode(identifier: .sequence) { s in
                    try Self.serializeExtension([2, 5, 29, 20], into: &s) { try $0.serialize(number) }  // cRLNumber
                }
            }
        }
        let signature = try caKey.sign(bytes: tbs.serializedBytes, signatureAlgorithm: algorithm)
        var list = DER.Serializer()
        try list.appendConstructedNode(identifier: .sequence) { s in
            s.serializeRawBytes(tbs.serializedBytes)
            try Self.serialize(algorithm, into: &s)
            try s.serialize(ASN1BitString(bytes: signature.rawRepresentation[...]))
        }
        return list.serializedBytes
    }

    func pem(entries: [Entry], number: Int, thisUpdate: Date, nextUpdate: Date) throws -> String {
        try PEMDocument(type: "X509 CRL", derBytes: der(entries: entries, number: number, thisUpdate: thisUpdate, nextUpdate: nextUpdate))
            .pemString + "\n"
    }

    /// The CA key's usual algorithm; the key must be the certificate's.
    private func signatureAlgorithm() throws -> Certificate.SignatureAlgorithm {
        guard caKey.publicKey == caCertificate.publicKey else {
            throw RevocationError("Khóa CA không khớp với chứng thư số CA", "The CA key does not match the CA certificate")
        }
        return Self.signatureAlgorithm(for: caKey)
    }

    /// The usual signature algorithm of a key (also the box certificates', `BoxCertificateIssuer`).
    static func signatureAlgorithm(for caKey: Certificate.PrivateKey) -> Certificate.SignatureAlgorithm {
        if P256.Signing.PublicKey(caKey.publicKey) != nil { return .ecdsaWithSHA256 }
        if P384.Signing.PublicKey(caKey.publicKey) != nil { return .ecdsaWithSHA384 }
        if P521.Signing.PublicKey(caKey.publicKey) != nil { return .ecdsaWithSHA512 }
        if Curve25519.Signing.PublicKey(caKey.publicKey) != nil { return .ed25519 }
        return .sha256WithRSAEncryption
    }

    private static func serialize(_ algorithm: Certificate.SignatureAlgorithm, into s: inout DER.Serializer) throws {
        guard let oid = RevocationList.algorithms.first(where: { $0.1 == algorithm })?.0 else {
            throw RevocationError("Thuật toán ký không hỗ trợ", "Unsupported signature algorithm")
        }
        try s.appendConstructedNode(identifier: .sequence) { s in
            try s.serialize(oid)
            // RSA's parameters are an explicit NULL (RFC 4055 § 5); ECDSA's and Ed25519's absent.
            if algorithm == .sha256WithRSAEncryption { try s.serialize(ASN1Null()) }
        }
    }

    /// UTCTime up to 2049, GeneralizedTime after (RFC 5280 § 5.1.2.4).
    private static func serialize(_ date: Date, into s: inout DER.Serializer) throws {
        let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        let (year, month, day, hour, minute, second) = (c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
        if year < 2050 {
            try s.serialize(try UTCTime(year: year, month: month, day: day, hours: hour, minutes: minute, seconds: second))
        } else {
            try s.serialize(try GeneralizedTime(year: year, month: month, day: day, hours: hour, minutes: minute, seconds: second,
                                                fractionalSeconds: 0))
        }
    }

    private static func serialize(_ entry: Entry, into s: inout DER.Serializer) throws {
        guard let serial = SerialNumberText.bytes(entry.serial) else {
            throw RevocationError("Số sê-ri không hợp lệ: \(entry.serial)", "Invalid serial number: \(entry.serial)")
        }
        try s.appendConstructedNode(identifier: .sequence) { s in
            try s.serialize(ArraySlice(serial))
            try serialize(entry.date, into: &s)
            try s.appendConstructedNode(identifier: .sequence) { s in
                try serializeExtension([2, 5, 29, 21], into: &s) { s in  // reasonCode, ENUMERATED
                    s.appendPrimitiveNode(identifier: .enumerated) { $0.append(entry.reason.code) }
                }
            }
        }
    }

    /// Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE, extnValue OCTET STRING (DER of the value) }
    private static func serializeExtension(_ oid: ASN1ObjectIdentifier, into s: inout DER.Serializer,
                                           value: (inout DER.Serializer) throws -> Void) throws {
        var inner = DER.Serializer()
        try value(&inner)
        try s.appendConstructedNode(identifier: .sequence) { s in
            try s.serialize(oid)
            try s.serialize(ASN1OctetString(contentBytes: inner.serializedBytes[...]))
        }
    }
}

/// Serial numbers as operators and openssl write them: hex, any case, colons allowed.
enum SerialNumberText {
    /// The unsigned value's bytes, without leading zeros (the DER INTEGER encoder adds the one a
    /// high bit needs).
    static func bytes(_ text: String) -> [UInt8]? {
        var hex = text.lowercased().filter { $0 != ":" }
        if hex.hasPrefix("0x") { hex.removeFirst(2) }
        guard !hex.isEmpty, hex.count <= 40, hex.allSatisfy(\.isHexDigit) else { return nil }
        if hex.count % 2 == 1 { hex = "0" + hex }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        let trimmed = Array(bytes.drop { $0 == 0 })
        return trimmed.isEmpty ? [0] : trimmed
    }

    /// Upper-case hex of a certificate's serial, as `openssl x509 -serial` prints it.
    static func text(_ serial: Certificate.SerialNumber) -> String {
        let bytes = serial.bytes.drop { $0 == 0 }
        return bytes.isEmpty ? "00" : bytes.map { String(format: "%02X", $0) }.joined()
    }
}
