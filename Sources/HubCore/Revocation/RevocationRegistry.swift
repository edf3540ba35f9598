import DurableFiles
import Foundation
import X509

/// The certificates the hub's own CA has revoked (`hubd revoke`), kept in
/// `<data_directory>/revocations.json`, and the CRL made from them. The JSON file is the truth;
/// the CRL is written from it each time, whole, signed, and renamed into place, so hubd (which
/// reads it again when it changes) and nginx (on reload) never see half of one.
package struct RevocationRegistry {
    struct Stored: Codable {
        var crlNumber = 0
        var entries: [RevocationListWriter.Entry] = []
    }

    package let file: String
    let writer: RevocationListWriter
    /// How long a CRL is good for (its nextUpdate): the CRL must be written again before then.
    package static let validity: TimeInterval = 30 * 24 * 3600

    package init(configuration: HubConfiguration) throws {
        let (certificate, key) = try Self.issuingCA(configuration)
        guard configuration.crlFile != nil else {
            throw RevocationError("Chưa cấu hình server.crl_file", "server.crl_file is not configured")
        }
        file = configuration.dataDirectory + "/revocations.json"
        writer = RevocationListWriter(caCertificate: certificate, caKey: key)
    }

    /// The hub's own CA (`[ca]`): it signs the CRL and issues box certificates (docs/hubd.md, "Enrolment").
    static func issuingCA(_ configuration: HubConfiguration) throws -> (Certificate, Certificate.PrivateKey) {
        guard let certificateFile = configuration.caCertificate, let keyFile = configuration.caKey else {
            throw RevocationError(
                "Chưa cấu hình CA của hub ([ca] certificate_file, key_file); với CA bên ngoài, hãy thu hồi ở CA đó và trỏ server.crl_file tới CRL của nó",
                "The hub's CA is not configured ([ca] certificate_file, key_file); with an external CA, revoke there and point server.crl_file at its CRL")
        }
        let certificate = try Certificate(pemEncoded: try String(contentsOfFile: certificateFile, encoding: .utf8))
        let key = try Certificate.PrivateKey(pemEncoded: try String(contentsOfFile: keyFile, encoding: .utf8))
        guard key.publicKey == certificate.publicKey else {
            throw RevocationError("Khóa CA không khớp với chứng thư số CA", "The CA key does not match the CA certificate")
        }
        return (certificate, key)
    }

    /// Adds the serials of `agency`'s certificates (those already listed are kept as they were)
    /// and writes the CRL to `crlFile`. Returns the entries added.
    package func revoke(agency: String, serials: [String], reason: String, crlFile: String, now: Date = Date()) throws -> [String] {
        guard let reason = RevocationListWriter.Reason(rawValue: reason) else {
            let known = RevocationListWriter.Reason.allCases.map(\.rawValue).joined(separator: ", ")
            throw RevocationError("Lý do không hợp lệ (\(known))", "Unknown reason (\(known))")
        }
        var stored = try read()
        var added: [String] = []
        for serial in serials {
            guard let bytes = SerialNumberText.bytes(serial) else {
                throw RevocationError("Số sê-ri không hợp lệ: \(serial)", "Invalid serial number: \(serial)")
            }
            let text = SerialNumberText.text(Certificate.SerialNumber(bytes: bytes))
            guard !stored.entries.contains(where: { $0.serial == text }) else { continue }
            stored.entries.append(.init(agency: agency, serial: text, date: now, reason: reason))
            added.append(text)
        }
        try publish(&stored, crlFile: crlFile, now: now)
        return added
    }

    /// Writes the CRL again with the same entries and a later nextUpdate (a monthly timer).
    package func refresh(crlFile: String, now: Date = Date()) throws {
        var stored = try read()
        try publish(&stored, crlFile: crlFile, now: now)
    }

    /// The serial of a box's certificate file, which must name `agency` (a wrong file must not
    /// revoke another commune's box).
    package static func serial(ofCertificateFile path: String, agency: String) throws -> String {
        let certificate = try Certificate(pemEncoded: try String(contentsOfFile: path, encoding: .utf8))
        guard ClientIdentity.commonName(certificate) == agency else {
            throw RevocationError("Chứng thư số \(path) không phải của \(agency)", "The certificate \(path) is not \(agency)'s")
        }
        return SerialNumberText.text(certificate.serialNumber)
    }

    package func entries() throws -> [(agency: String, serial: String, date: Date, reason: String)] {
        try read().entries.map { ($0.agency, $0.serial, $0.date, $0.reason.rawValue) }
    }

    private func publish(_ stored: inout Stored, crlFile: String, now: Date) throws {
        stored.crlNumber += 1
        let pem = try writer.pem(entries: stored.entries, number: stored.crlNumber, thisUpdate: now,
                                 nextUpdate: now.addingTimeInterval(Self.validity))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        // The list first: were the CRL written and the list not, the next run would lose entries.
        // The data directory may not exist yet when the CRL is written before hubd's first start.
        try POSIXFile.makeDirectory((file as NSString).deletingLastPathComponent)
        try POSIXFile.replaceWhole(file, with: Array(try encoder.encode(stored)), mode: 0o640)
        try POSIXFile.replaceWhole(crlFile, with: Array(pem.utf8), mode: 0o644)
    }

    private func read() throws -> Stored { try Self.read(file) }

    private static func read(_ file: String) throws -> Stored {
        // Missing is empty; unreadable is an error, never an empty list that would un-revoke.
        guard FileManager.default.fileExists(atPath: file) else { return Stored() }
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(Stored.self, from: data)
    }

    /// Whether `hubd revoke` has listed `serial` (hex, as `SerialNumberText` writes it). The list
    /// is written before the CRL and read here at once, without the CRL's second of delay: a
    /// renewal must never turn a certificate revoked a moment ago into a fresh one.
    static func lists(_ serial: String, dataDirectory: String) throws -> Bool {
        try read(dataDirectory + "/revocations.json").entries.contains { $0.serial == serial }
    }
}
