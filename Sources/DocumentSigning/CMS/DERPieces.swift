import SwiftASN1

/// Bytes that are already DER (a certificate, a name, a sorted attribute), placed as they are.
struct RawDER: DERSerializable, Sendable {
    let bytes: [UInt8]

    func serialize(into coder: inout DER.Serializer) throws {
        coder.serializeRawBytes(bytes)
    }
}

/// `AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }` (RFC 5280).
struct AlgorithmIdentifierDER: DERSerializable, Sendable {
    let algorithm: ASN1ObjectIdentifier
    /// DER of the parameters; nil leaves them out (digests per RFC 5754, ECDSA per RFC 5758).
    let parameters: [UInt8]?

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(algorithm)
            if let parameters { coder.serializeRawBytes(parameters) }
        }
    }

    static let null: [UInt8] = [0x05, 0x00]
}

/// `Attribute ::= SEQUENCE { attrType OID, attrValues SET OF ANY }` (RFC 5652 §5.3).
struct CMSAttributeDER: DERSerializable, Sendable {
    let type: ASN1ObjectIdentifier
    let values: [RawDER]

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(type)
            try coder.serializeSetOf(values)
        }
    }
}

/// A non-negative INTEGER from its big-endian bytes. swift-certificates holds a serial number
/// as its magnitude (leading zeros trimmed), so a serial whose first byte is 0x80 or more needs
/// the 0x00 back, or it reads as negative and no one finds the signer's certificate by
/// issuer and serial (openssl: "signer certificate not found").
struct IntegerBytesDER: DERSerializable, Sendable {
    let bytes: [UInt8]

    func serialize(into coder: inout DER.Serializer) throws {
        coder.appendPrimitiveNode(identifier: .integer) {
            if bytes.first.map({ $0 >= 0x80 }) ?? true { $0.append(0x00) }
            $0.append(contentsOf: bytes)
        }
    }
}

extension DER {
    /// One value serialized on its own.
    static func encode(_ value: some DERSerializable) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(value)
        return serializer.serializedBytes
    }
}
