import Crypto
import DurableFiles
import Foundation
import X509
#if canImport(Glibc)
import Glibc
#endif

/// Where the box's TLS identity lives and how it is replaced: the certificate and key the relay
/// presents (`[upstream] certificate`/`key`, by default `<data_dir>/tls/box.pem` and `box.key`
/// when enrolment is configured), the next ones beside them while a renewal is under way, the
/// renewal's state file and the token firstboot hands over.
///
/// A key is written only through a new file (O_EXCL, mode 0600) renamed into place, so it is never
/// readable by anyone else, not even for a moment, and a crash leaves the old pair or the new one.
package struct BoxIdentityFiles: Sendable, Equatable {
    package var certificate: String
    package var key: String
    /// The renewal's state (`RenewalState`), shown by `gatewayd status` and the metrics.
    package var state: String
    /// gateway.toml's `[enrolment] token`, carried here by firstboot (mode 0600).
    package var token: String

    /// The defaults in `dataDirectory`.
    package init(dataDirectory: String) {
        certificate = dataDirectory + "/tls/box.pem"
        key = dataDirectory + "/tls/box.key"
        state = dataDirectory + "/tls/renewal.json"
        token = dataDirectory + "/enrolment-token"
    }

    package init(configuration: GatewayConfiguration) {
        self.init(dataDirectory: configuration.dataDirectory)
        if let file = configuration.upstream.certificateFile { certificate = file }
        if let file = configuration.upstream.keyFile { key = file }
    }

    /// A renewal's new pair, beside the current one until it is in use.
    package var next: BoxIdentityFiles {
        var next = self
        (next.certificate, next.key) = (certificate + ".next", key + ".next")
        return next
    }

    package var hasCertificate: Bool { FileManager.default.fileExists(atPath: certificate) }

    /// The token to enrol with: the configuration's, else firstboot's file.
    package func token(configured: String?) -> String? {
        if let configured { return configured }
        guard let text = try? String(contentsOfFile: token, encoding: .utf8) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    // MARK: Writing

    /// The private key as PEM PKCS#8 in a new file at `key` (O_EXCL, 0600): a key file of an
    /// earlier attempt is replaced only through `install`, never opened for writing.
    package func writeNewKey(_ key: P256.Signing.PrivateKey) throws(EnrolmentError) {
        do {
            try POSIXFile.makeDirectory((self.key as NSString).deletingLastPathComponent, mode: 0o700)
            POSIXFile.unlinkIfPresent(self.key)
            let fd = try POSIXFile.createExclusive(self.key, mode: 0o600)
            defer { close(fd) }
            try POSIXFile.writeAll(fd, Array(key.pemRepresentation.utf8), path: self.key)
            try POSIXFile.fsyncFile(fd, path: self.key)
        } catch {
            throw .files("khóa bí mật / the private key (\(self.key))", error)
        }
    }

    /// The certificate (then the issuing CA) as PEM, whole or not at all.
    package func writeCertificate(_ chain: [Certificate]) throws(EnrolmentError) {
        do {
            let pem = try chain.map { try $0.serializeAsPEM().pemString }.joined(separator: "\n") + "\n"
            try POSIXFile.makeDirectory((certificate as NSString).deletingLastPathComponent, mode: 0o700)
            try POSIXFile.replaceWhole(certificate, with: Array(pem.utf8), mode: 0o644)
        } catch {
            throw .files("chứng thư số / the certificate (\(certificate))", error)
        }
    }

    /// `other`'s pair renamed onto this one: the key first, then the certificate. A crash between
    /// the two leaves a new key with the old certificate, which `finishInstall` completes at the
    /// next start (the `.next` certificate is still there and matches the key).
    package func install(from other: BoxIdentityFiles) throws(EnrolmentError) {
        do {
            try POSIXFile.rename(other.key, key)
            try POSIXFile.rename(other.certificate, certificate)
            try POSIXFile.fsyncDirectory((certificate as NSString).deletingLastPathComponent)
            if (key as NSString).deletingLastPathComponent != (certificate as NSString).deletingLastPathComponent {
                try POSIXFile.fsyncDirectory((key as NSString).deletingLastPathComponent)
            }
        } catch {
            throw .files("chứng thư số mới / the new certificate", error)
        }
    }

    /// At start: a renewal interrupted after its key was renamed in is completed; a new key whose
    /// certificate never came is removed (the renewal makes another).
    package func finishInstall() {
        let next = self.next
        let nextCertificate = FileManager.default.fileExists(atPath: next.certificate)
        let nextKey = FileManager.default.fileExists(atPath: next.key)
        if nextCertificate, !nextKey, let identity = try? BoxIdentityMaterial(files: BoxIdentityFiles(certificate: next.certificate, key: key, state: state, token: token)),
           identity.certificate.publicKey == identity.publicKey {
            try? POSIXFile.rename(next.certificate, certificate)
        } else if nextKey, !nextCertificate {
            POSIXFile.unlinkIfPresent(next.key)
        }
    }

    init(certificate: String, key: String, state: String, token: String) {
        (self.certificate, self.key, self.state, self.token) = (certificate, key, state, token)
    }
}
