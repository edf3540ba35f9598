import Crypto
import _CryptoExtras
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import DurableFiles
import SwiftASN1
import X509

/// What is plugged in, for `gatewayd token list`: every reader, whether a card is in it, whether
/// it is a PIV token, its certificates and PIN tries left (read without spending one).
package struct TokenReport: Sendable, Codable {
    package struct CertificateReport: Sendable, Codable {
        package var slot: String
        package var subject: String
        var issuer: String
        var serial: String
        var notBefore: Date
        package var notAfter: Date
        package var keyType: String
        package var sha256: String

        enum CodingKeys: String, CodingKey {
            case slot, subject, issuer, serial, notBefore = "not_before", notAfter = "not_after", keyType = "key_type", sha256
        }
    }

    package var reader: String
    /// The USB device the reader is (a token is reader and card in one), when its driver tells
    /// (`SCARD_ATTR_CHANNEL_ID`), with the model from `TokenModel.table`.
    package var usb: USBIdentity?
    package var cardPresent: Bool
    package var atr: String?
    package var piv: Bool
    package var pinTriesLeft: Int?
    package var pinBlocked: Bool?
    package var certificates: [CertificateReport]
    /// Why a present card could not be read (not PIV, busy, …).
    package var problem: String?
    /// Which backend serves the card ("piv", "pkcs11", "none") and through which module, when the
    /// caller asked `TokenModuleTable` (`token list` does; the scan itself does not).
    package var backend: String?
    package var module: String?

    enum CodingKeys: String, CodingKey {
        case reader, usb, cardPresent = "card_present", atr, piv, pinTriesLeft = "pin_tries_left", pinBlocked = "pin_blocked", certificates, problem
        case backend, module
    }
}

package enum TokenInventory {
    package static func scan() throws(PCSCError) -> [TokenReport] {
        let context = try PCSCContext()
        return try context.readers().map { reader in report(reader: reader, context: context) }
    }

    /// What is in one reader (what the hot-plug watcher asks when a card arrives).
    package static func report(reader: String) throws(PCSCError) -> TokenReport {
        report(reader: reader, context: try PCSCContext())
    }

    static func report(reader: String, context: PCSCContext) -> TokenReport {
        var report = TokenReport(reader: reader, cardPresent: false, piv: false, certificates: [])
        let card: PCSCCard
        do { card = try context.connect(reader: reader) } catch {
            if error != .noSmartcard && error != .removedCard { report.problem = error.description }
            return report
        }
        defer { card.disconnect() }
        report.cardPresent = true
        report.atr = (try? card.atr()).map { APDUTrace.hex($0) }
        if let channel = card.channelID(), let location = USBDevices.busAndAddress(channelID: channel) {
            report.usb = USBDevices.device(bus: location.bus, address: location.address)
        }
        // One transaction for the whole reading: another program's SELECT or GET RESPONSE between
        // ours would break it, and ours would break theirs (a daemon identifies every token it sees).
        do { try card.withTransaction { readPIV(PIVToken(card: card), into: &report) } } catch {
            report.problem = "\(error)"
        }
        return report
    }

    static func readPIV(_ token: PIVToken, into report: inout TokenReport) {
        do {
            try token.select()
        } catch {
            report.problem = "không phải token PIV / not a PIV token (\(error))"
            return
        }
        report.piv = true
        switch try? token.pinStatus() {
        case .triesLeft(let tries): report.pinTriesLeft = tries; report.pinBlocked = false
        case .blocked: report.pinTriesLeft = 0; report.pinBlocked = true
        case .verified: report.pinBlocked = false
        case nil: break
        }
        var unreadable: [String] = []
        for slot in PIV.Slot.allCases {
            let der: [UInt8]
            do { der = try token.certificate(slot) } catch {
                // An empty slot answers "not found"; anything else the operator should hear about.
                if error != .card(.fileNotFound, operation: "GET DATA \(slot.rawValue)") { unreadable.append("\(slot.rawValue): \(error)") }
                continue
            }
            do { report.certificates.append(try describe(der, slot: slot)) } catch {
                unreadable.append("\(slot.rawValue): chứng thư không hợp lệ / invalid certificate (\(error))")
            }
        }
        if !unreadable.isEmpty {
            report.problem = "Không đọc được chứng thư / cannot read certificates — " + unreadable.joined(separator: "; ")
        }
    }

    static func describe(_ der: [UInt8], slot: PIV.Slot) throws -> TokenReport.CertificateReport {
        try describe(der, place: slot.rawValue)
    }

    /// `place`: where the key is — a PIV slot, or a PKCS#11 key's `pkcs11:` URI.
    static func describe(_ der: [UInt8], place: String) throws -> TokenReport.CertificateReport {
        let certificate = try Certificate(derEncoded: der)
        return TokenReport.CertificateReport(
            slot: place, subject: certificate.subject.description, issuer: certificate.issuer.description,
            serial: certificate.serialNumber.description, notBefore: certificate.notValidBefore, notAfter: certificate.notValidAfter,
            keyType: keyType(of: certificate), sha256: POSIXFile.hex(SHA256.hash(data: der)))
    }

    /// The PIV algorithm of a certificate's key, or nil when the token's key is of a kind we do
    /// not sign with.
    package static func algorithm(of certificate: Certificate) -> PIV.Algorithm? {
        if P256.Signing.PublicKey(certificate.publicKey) != nil { return .eccP256 }
        if P384.Signing.PublicKey(certificate.publicKey) != nil { return .eccP384 }
        if let rsa = _RSA.Signing.PublicKey(certificate.publicKey), rsa.keySizeInBits == 2048 { return .rsa2048 }
        return nil
    }

    static func keyType(of certificate: Certificate) -> String {
        switch algorithm(of: certificate) {
        case .eccP256: "ECC P-256"
        case .eccP384: "ECC P-384"
        case .rsa2048: "RSA-2048"
        case nil: "unsupported"
        }
    }
}
