// The box's own certificate authority and the console's server certificate issued by it.
import Crypto
import DurableFiles
import Foundation
import GatewayCore
import SwiftASN1
import X509
#if canImport(Glibc)
import Glibc
#endif

/// The office PCs install the box's CA once (`/ca`); the console's certificate is then issued by
/// it for whatever names and addresses the box has, and re-issued at start when those change or
/// it nears its end, without a new warning in any browser. ECDSA P-256: small, fast, and accepted
/// by every browser that old office PCs run.
package struct BoxCA: Sendable {
    package let directory: String

    package init(layout: StoreLayout) { directory = layout.dataDirectory + "/console" }

    package var caKeyPath: String { directory + "/ca.key" }
    package var caCertificatePath: String { directory + "/ca.pem" }
    package var serverKeyPath: String { directory + "/server.key" }
    package var serverCertificatePath: String { directory + "/server.pem" }

    /// The CA lives for 20 years (its certificate is installed by hand on every PC); the server's
    /// for 397 days (the longest browsers accept), re-issued 30 days before its end.
    static let caLifetime: TimeInterval = 20 * 365 * 86400
    static let serverLifetime: TimeInterval = 397 * 86400
    static let renewBefore: TimeInterval = 30 * 86400

    /// Makes the CA if there is none, and a server certificate for `names` if the current one
    /// does not cover exactly those, was not issued by this CA, or nears its end. Returns what
    /// was made, for the log.
    @discardableResult
    package func prepare(names: ServerNames, now: Date) throws -> [String] {
        var made: [String] = []
        try POSIXFile.makeDirectory(directory, mode: 0o700)
        let (caKey, ca): (P256.Signing.PrivateKey, Certificate)
        if let key = try? P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: caKeyPath, encoding: .utf8)),
           let certificate = try? Certificate(pemEncoded: String(contentsOfFile: caCertificatePath, encoding: .utf8)) {
            (caKey, ca) = (key, certificate)
        } else {
            (caKey, ca) = try Self.makeCA(now: now)
            try Self.writeDurably(caKeyPath, caKey.pemRepresentation, mode: 0o600)
            try Self.writeDurably(caCertificatePath, ca.serializeAsPEM().pemString, mode: 0o644)
            made.append("ca")
        }
        if let current = try? CertificateFile.first(inPEMFile: serverCertificatePath),
           (try? P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: serverKeyPath, encoding: .utf8))) != nil,
           ca.publicKey.isValidSignature(current.signature, for: current),
           current.notValidAfter.timeIntervalSince(now) > Self.renewBefore,
           (try? ServerNames(current)) == names {
            return made
        }
        let key = P256.Signing.PrivateKey()
        let server = try Self.issueServer(key: key, names: names, ca: ca, caKey: caKey, now: now)
        try Self.writeDurably(serverKeyPath, key.pemRepresentation, mode: 0o600)
        // The chain the server sends: its certificate, then the CA's.
        try Self.writeDurably(serverCertificatePath, server.serializeAsPEM().pemString + "\n" + ca.serializeAsPEM().pemString, mode: 0o644)
        made.append("server")
        return made
    }

    /// SHA-256 (what `gatewayd status` prints) and SHA-1 (what Windows shows as "Thumbprint") of
    /// the CA certificate's DER, in colon-separated upper-case hex.
    package static func fingerprints(ofPEMFile path: String) throws -> (sha256: String, sha1: String) {
        let certificate = try Certificate(pemEncoded: String(contentsOfFile: path, encoding: .utf8))
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        let der = serializer.serializedBytes
        func hex(_ digest: some Sequence<UInt8>) -> String { digest.map { String(format: "%02X", $0) }.joined(separator: ":") }
        return (hex(SHA256.hash(data: der)), hex(Insecure.SHA1.hash(data: der)))
    }

    /// The first certificate of a PEM file (the server's file holds its chain: itself, then the CA).
    static func makeCA(now: Date) throws -> (P256.Signing.PrivateKey, Certificate) {
        let key = P256.Signing.PrivateKey()
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        let name = try DistinguishedName {
            OrganizationName("Cổng văn bản điện tử")
            CommonName("CA của hộp / box CA \(String(cString: host))")
        }
        let publicKey = Certificate.PublicKey(key.publicKey)
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(caLifetime),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: publicKey)
            },
            issuerPrivateKey: .init(key))
        return (key, certificate)
    }

    static func issueServer(key: P256.Signing.PrivateKey, names: ServerNames, ca: Certificate, caKey: P256.Signing.PrivateKey,
                            now: Date) throws -> Certificate {
        let subject = try DistinguishedName { CommonName(names.dnsNames.first ?? "localhost") }
        let publicKey = Certificate.PublicKey(key.publicKey)
        var alternatives: [GeneralName] = names.dnsNames.map { .dnsName($0) }
        alternatives += names.ipAddresses.map { .ipAddress(ASN1OctetString(contentBytes: ArraySlice($0))) }
        let caKeyIdentifier = try ca.extensions.subjectKeyIdentifier?.keyIdentifier
        return try Certificate(
            version: .v3, serialNumber: .init(), publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(serverLifetime),
            issuer: ca.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(alternatives)
                SubjectKeyIdentifier(hash: publicKey)
                if let caKeyIdentifier { AuthorityKeyIdentifier(keyIdentifier: caKeyIdentifier) }
            },
            issuerPrivateKey: .init(caKey))
    }

    /// Whole or not at all (`POSIXFile.replaceWhole`).
    static func writeDurably(_ path: String, _ text: String, mode: mode_t) throws {
        try POSIXFile.replaceWhole(path, with: Array(text.utf8), mode: mode)
    }
}

/// The names and addresses the console's certificate covers.
package struct ServerNames: Sendable, Equatable {
    package var dnsNames: [String]
    /// 4 or 16 bytes each.
    package var ipAddresses: [[UInt8]]

    package init(dnsNames: [String], ipAddresses: [[UInt8]]) {
        self.dnsNames = Array(Set(dnsNames)).sorted()
        self.ipAddresses = Array(Set(ipAddresses)).sorted { $0.lexicographicallyPrecedes($1) }
    }

    init(_ certificate: Certificate) throws {
        var dns: [String] = [], ips: [[UInt8]] = []
        for name in try certificate.extensions.subjectAlternativeNames.map(Array.init) ?? [] {
            switch name {
            case .dnsName(let text): dns.append(text)
            case .ipAddress(let bytes): ips.append(Array(bytes.bytes))
            default: break
            }
        }
        self.init(dnsNames: dns, ipAddresses: ips)
    }

    /// This machine: its host name, `<host>.local` (mDNS), `localhost`, and every address of its
    /// interfaces (IPv6 link-local ones aside: a browser cannot use them in a URL without a zone).
    package static func ofThisMachine() -> ServerNames {
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        let name = String(cString: host).lowercased()
        var dns = ["localhost"]
        if !name.isEmpty {
            let short = name.split(separator: ".").first.map(String.init) ?? name
            dns += [name, short, short + ".local"]
        }
        var ips: [[UInt8]] = [[127, 0, 0, 1], Array(repeating: 0, count: 15) + [1]]
        var list: UnsafeMutablePointer<ifaddrs>?
        if getifaddrs(&list) == 0, let first = list {
            var cursor: UnsafeMutablePointer<ifaddrs>? = first
            while let entry = cursor {
                defer { cursor = entry.pointee.ifa_next }
                guard let address = entry.pointee.ifa_addr else { continue }
                switch Int32(address.pointee.sa_family) {
                case AF_INET:
                    address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { ipv4 in
                        ips.append(withUnsafeBytes(of: ipv4.pointee.sin_addr) { Array($0) })
                    }
                case AF_INET6:
                    address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { ipv6 in
                        let bytes = withUnsafeBytes(of: ipv6.pointee.sin6_addr) { Array($0) }
                        if !(bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80) { ips.append(bytes) }
                    }
                default: break
                }
            }
            freeifaddrs(first)
        }
        return ServerNames(dnsNames: dns, ipAddresses: ips)
    }
}
