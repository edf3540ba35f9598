/// The PIV card application's commands and objects (NIST SP 800-73-4 Part 1 and 2), as pure
/// builders and parsers: no transport here.
package enum PIV {
    /// PIV application identifier, with the version suffix (SP 800-73-4 Part 1 §2.2).
    static let applicationID: [UInt8] = [0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00]

    /// Key slots and the data objects holding their certificates (Part 1, Table 3).
    package enum Slot: String, Sendable, CaseIterable, Codable {
        case authentication = "9a"
        case signature = "9c"
        case keyManagement = "9d"
        case cardAuthentication = "9e"

        var keyReference: UInt8 {
            switch self {
            case .authentication: 0x9A
            case .signature: 0x9C
            case .keyManagement: 0x9D
            case .cardAuthentication: 0x9E
            }
        }

        var certificateObject: [UInt8] {
            switch self {
            case .authentication: [0x5F, 0xC1, 0x05]
            case .signature: [0x5F, 0xC1, 0x0A]
            case .keyManagement: [0x5F, 0xC1, 0x0B]
            case .cardAuthentication: [0x5F, 0xC1, 0x01]
            }
        }

        /// Slot 9C's key is "PIN always" (Part 1 §3.2.2): a VERIFY right before every signature.
        var needsPINBeforeEverySignature: Bool { self == .signature }

        /// 9E (card authentication) signs without a PIN; the others need one.
        var needsPIN: Bool { self != .cardAuthentication }
    }

    static let chuidObject: [UInt8] = [0x5F, 0xC1, 0x02]

    /// Algorithm identifiers of SP 800-78-4, Table 6-2.
    package enum Algorithm: UInt8, Sendable, CaseIterable, Codable {
        case rsa2048 = 0x07
        case eccP256 = 0x11
        case eccP384 = 0x14

        /// Bytes the card signs: the whole PKCS#1 block for RSA, the field size for ECDSA.
        var challengeLength: Int {
            switch self {
            case .rsa2048: 256
            case .eccP256: 32
            case .eccP384: 48
            }
        }
    }

    package static func select() -> CommandAPDU {
        CommandAPDU(ins: 0xA4, p1: 0x04, p2: 0x00, data: applicationID, expectedLength: 256)
    }

    /// GET DATA for one object; the answer (`53 …`) may need GET RESPONSE to arrive whole.
    static func getData(_ object: [UInt8]) -> CommandAPDU {
        CommandAPDU(ins: 0xCB, p1: 0x3F, p2: 0xFF, data: TLV(tag: 0x5C, value: object).encoded, expectedLength: 256)
    }

    /// VERIFY of the PIV application PIN (key reference 80).
    package static func verify(_ pin: PIN) -> CommandAPDU {
        pin.withPaddedBytes { CommandAPDU(ins: 0x20, p1: 0x00, p2: 0x80, data: $0) }
    }

    /// VERIFY without data: asks the tries left without spending one (Part 2 §3.2.1).
    static func pinStatus() -> CommandAPDU {
        CommandAPDU(ins: 0x20, p1: 0x00, p2: 0x80)
    }

    /// VERIFY with P1 = FF: resets the PIN's security status (Part 2 §3.2.1), so what we verified
    /// is not left for another program to use.
    static func logout() -> CommandAPDU {
        CommandAPDU(ins: 0x20, p1: 0xFF, p2: 0x80)
    }

    /// GENERAL AUTHENTICATE for a signature: `7C { 82 00, 81 challenge }` (Part 2 §3.2.4).
    package static func sign(_ challenge: [UInt8], algorithm: Algorithm, slot: Slot) -> CommandAPDU {
        let template = TLV(tag: 0x7C, value: TLV(tag: 0x82, value: []).encoded + TLV(tag: 0x81, value: challenge).encoded)
        return CommandAPDU(ins: 0x87, p1: algorithm.rawValue, p2: slot.keyReference, data: template.encoded, expectedLength: 256)
    }

    package enum ObjectError: Error, Equatable, Sendable {
        case malformed(TLV.ParseError)
        case missing(String)
        case compressedCertificate
    }

    /// The signature inside a GENERAL AUTHENTICATE answer, `7C { 82 signature }`.
    package static func signature(fromAuthenticateResponse data: [UInt8]) throws(ObjectError) -> [UInt8] {
        try decoding {
            guard let template = try TLV.parseAll(data).first(tag: 0x7C) else { throw ObjectError.missing("7C dynamic authentication template") }
            guard let response = try template.children().first(tag: 0x82) else { throw ObjectError.missing("82 response") }
            return response.value
        }
    }

    /// Runs a TLV reading, giving its failures the one error type of this area.
    static func decoding<T>(_ body: () throws -> T) throws(ObjectError) -> T {
        do {
            return try body()
        } catch let error as TLV.ParseError {
            throw .malformed(error)
        } catch let error as ObjectError {
            throw error
        } catch {
            throw .missing("\(error)")
        }
    }

    /// A certificate object `53 { 70 certificate, 71 CertInfo, FE LRC }`.
    package struct CertificateObject: Sendable, Equatable {
        package var certificate: [UInt8]
        /// CertInfo bit 0: the certificate is gzip-compressed (Part 1, Table 15, note).
        var isCompressed: Bool
    }

    static func certificateObject(_ data: [UInt8]) throws(ObjectError) -> CertificateObject {
        try decoding {
            guard let container = try TLV.parseAll(data).first(tag: 0x53) else { throw ObjectError.missing("53 data object") }
            let children = try container.children()
            guard let certificate = children.first(tag: 0x70) else { throw ObjectError.missing("70 certificate") }
            let info = children.first(tag: 0x71)?.value.first ?? 0
            return CertificateObject(certificate: certificate.value, isCompressed: info & 0x01 != 0)
        }
    }
}
