/// The message representatives an RSA key signs (RFC 8017 §9). A token's PIV application, and our
/// software key, do only the raw private-key operation; the host builds these blocks, so both
/// kinds of key sign exactly the same bytes.
package enum RSAPadding {
    /// EMSA-PKCS1-v1_5 (RFC 8017 §9.2): `00 01 FF…FF 00 DigestInfo`.
    package static func pkcs1v15(digest: [UInt8], algorithm: DigestAlgorithm, modulusBytes: Int) throws(SignerError) -> [UInt8] {
        guard digest.count == algorithm.length else { throw .digestLength(expected: algorithm.length, actual: digest.count) }
        let info = algorithm.digestInfoPrefix + digest
        // RFC 8017 §9.2 step 3: at least 8 bytes of 0xFF.
        let padding = modulusBytes - info.count - 3
        precondition(padding >= 8, "RSA modulus too small for the digest")
        return [0x00, 0x01] + [UInt8](repeating: 0xFF, count: padding) + [0x00] + info
    }

    /// EMSA-PSS (RFC 8017 §9.1.1) with MGF1 over the same hash and a salt as long as the digest
    /// (what RFC 4055 / CAdES validators assume by default). `salt` is for known-answer tests only.
    package static func pss(digest: [UInt8], algorithm: DigestAlgorithm, modulusBits: Int, salt: [UInt8]? = nil) throws(SignerError) -> [UInt8] {
        guard digest.count == algorithm.length else { throw .digestLength(expected: algorithm.length, actual: digest.count) }
        let hashLength = algorithm.length
        let salt = salt ?? (0..<hashLength).map { _ in UInt8.random(in: 0...255) }
        let emBits = modulusBits - 1
        let emLength = (emBits + 7) / 8
        precondition(emLength >= hashLength + salt.count + 2, "RSA modulus too small for PSS")
        // M' = 8 zero bytes || mHash || salt; H = Hash(M')
        let h = algorithm.hash([UInt8](repeating: 0, count: 8) + digest + salt)
        // DB = PS || 0x01 || salt, masked with MGF1(H)
        var db = [UInt8](repeating: 0, count: emLength - salt.count - hashLength - 2) + [0x01] + salt
        let mask = mgf1(seed: h, length: db.count, algorithm: algorithm)
        for index in db.indices { db[index] ^= mask[index] }
        // Clear the leftmost 8·emLen − emBits bits so the block is below the modulus.
        db[0] &= UInt8(0xFF >> (8 * emLength - emBits))
        let encoded = db + h + [0xBC]
        // The raw operation takes a modulus-sized input: a leading zero when emLen is one short.
        return [UInt8](repeating: 0, count: (modulusBits + 7) / 8 - encoded.count) + encoded
    }

    static func mgf1(seed: [UInt8], length: Int, algorithm: DigestAlgorithm) -> [UInt8] {
        var output: [UInt8] = []
        var counter: UInt32 = 0
        while output.count < length {
            let c = [UInt8(counter >> 24), UInt8((counter >> 16) & 0xFF), UInt8((counter >> 8) & 0xFF), UInt8(counter & 0xFF)]
            output += algorithm.hash(seed + c)
            counter += 1
        }
        return Array(output.prefix(length))
    }

    /// The representative for `algorithm`, which must be an RSA one.
    package static func block(for algorithm: SignatureAlgorithm, digest: [UInt8], modulusBits: Int) throws(SignerError) -> [UInt8] {
        algorithm.isPSS
            ? try pss(digest: digest, algorithm: algorithm.digest, modulusBits: modulusBits)
            : try pkcs1v15(digest: digest, algorithm: algorithm.digest, modulusBytes: (modulusBits + 7) / 8)
    }
}
