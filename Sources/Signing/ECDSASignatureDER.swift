/// ECDSA's two ways to write a signature: PKCS#11 tokens and XMLDSig give r ‖ s (each the
/// curve's size), CMS and X.509 want DER `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }`
/// (RFC 5480 / X9.62). Written by hand, byte for byte what swift-crypto's `derRepresentation`
/// gives (minimal INTEGERs, a 0x00 before a high bit), because swift-crypto's generic
/// `init(rawRepresentation:)` costs a one-shot program like `gateway-token sign` a scan of every
/// protocol conformance in the binary at its first use (docs/PERFORMANCE.md, "PKCS#11 signing
/// through SoftHSM2").
package enum ECDSASignatureDER {
    /// r ‖ s as DER; nil for an empty or odd-sized input.
    package static func fromRaw(_ raw: [UInt8]) -> [UInt8]? {
        guard !raw.isEmpty, raw.count % 2 == 0 else { return nil }
        let half = raw.count / 2
        let body = integer(raw[..<half]) + integer(raw[half...])
        return [0x30] + length(body.count) + body
    }

    /// A non-negative INTEGER from big-endian bytes: leading zeros dropped, 0x00 kept before a
    /// high bit (and as the whole value of zero).
    private static func integer(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var value = Array(bytes.drop { $0 == 0 })
        if value.first.map({ $0 & 0x80 != 0 }) ?? true { value.insert(0, at: 0) }
        return [0x02] + length(value.count) + value
    }

    /// DER's definite length: short form below 128, else 0x81 or 0x82 and the bytes.
    private static func length(_ count: Int) -> [UInt8] {
        if count < 0x80 { return [UInt8(count)] }
        if count <= 0xFF { return [0x81, UInt8(count)] }
        return [0x82, UInt8(count >> 8), UInt8(count & 0xFF)]
    }
}
