// `gatewayd sign`: sign a file with a token or a key file. Files other than PDF get a detached
// CAdES-B signature (`.p7s`); PDF signing (PAdES, with the Decree 30 appearance) is issue 4's next
// step and is refused with a clear message until then.
import ArgumentParser
import DocumentSigning
import Foundation
import Signing
import SwiftASN1
import TokenDriver
import X509

struct Sign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ký số một tệp / sign a file (CAdES .p7s for files that are not PDF).",
        discussion: """
            --signer token:9c signs on the PIV token (slot 9a, 9c, 9d or 9e; the PIN from --pin-file \
            or the terminal, tried once); --signer key:KEY.pem with a key file (development and \
            the demo only). --cert gives the chain: for a key file the signer's certificate first, \
            then its issuers; for a token only the issuers (the token holds the signer's own).
            """)

    @Argument(help: "The file to sign.") var file: String
    @Option(help: "Where to write the signature (.p7s).") var out: String
    @Option(help: "token:SLOT or key:KEYFILE.") var signer: String
    @Option(help: "Certificate chain (PEM).") var cert: String?
    @Option(help: "Reader name, for a token (default: the first reader with a PIV token).") var reader: String?
    @Option(help: "rsa-pkcs1-sha256, rsa-pss-sha256, ecdsa-sha256 … (default: the key's preferred one).") var algorithm: String?
    @Option(name: .customLong("pin-file"), help: "A file whose first line is the token's PIN.") var pinFile: String?

    func run() async throws {
        if isPDF(file) {
            throw CLI.fail("Ký PDF (PAdES) chưa có trong phiên bản này / PDF signing (PAdES) is not available yet: sign a copy as .p7s with a file that is not a PDF, or wait for the PAdES release")
        }
        let signer = try makeSigner()
        let chosen = try chooseAlgorithm(for: signer.keyType)
        let digest: [UInt8]
        do { digest = try FileDigest.compute(path: file, algorithm: chosen.digest) } catch {
            throw CLI.fail("Không đọc được tệp / cannot read \(file): \(error.localizedDescription)")
        }
        let cms: [UInt8]
        do {
            cms = try await CMSSignedDataBuilder.sign(contentDigest: digest, signer: signer, algorithm: chosen, profile: .cades)
        } catch let failure as PIVToken.Failure {
            throw CLI.fail(failure.description)
        } catch let error as PCSCError {
            throw CLI.fail(error.description)
        } catch let error as SignerError {
            throw CLI.fail(error.description)
        }
        do { try Data(cms).write(to: URL(fileURLWithPath: out), options: .atomic) } catch {
            throw CLI.fail("Không ghi được / cannot write \(out): \(error.localizedDescription)")
        }
        print("Đã ký / signed: \(out) (\(chosen), \(signer.certificate.subject))")
    }

    func makeSigner() throws -> any Signer {
        let chain = try cert.map(readChain) ?? []
        if signer.hasPrefix("key:") {
            guard let certificatePath = cert else { throw CLI.fail("--cert: cần chứng thư của khóa / the key's certificate chain is needed") }
            do { return try SoftwareKeySigner(keyFile: String(signer.dropFirst(4)), chainFile: certificatePath) } catch let error as SignerError {
                throw CLI.fail(error.description)
            }
        }
        guard signer.hasPrefix("token:"), let slot = PIV.Slot(rawValue: signer.dropFirst(6).lowercased()) else {
            throw CLI.fail("--signer: token:9a|9c|9d|9e hoặc / or key:KEYFILE")
        }
        let pinFile = pinFile
        do {
            let readerName = try reader ?? Token.Selection.firstPIVReader()
            return try PIVSigner(reader: readerName, slot: slot, intermediates: chain) { () throws -> PIN in
                do { return try PIN(try Token.Sign.readPIN(from: pinFile)) } catch let error as PIN.FormatError { throw CLI.fail(error.description) }
            }
        } catch let failure as PIVToken.Failure {
            throw CLI.fail(failure.description)
        } catch let error as PCSCError {
            throw CLI.fail(error.description)
        }
    }

    func chooseAlgorithm(for keyType: SignerKeyType) throws -> SignatureAlgorithm {
        guard let algorithm else { return keyType.algorithms[0] }
        guard let named = SignatureAlgorithm(rawValue: algorithm), keyType.algorithms.contains(named) else {
            throw CLI.fail("--algorithm \(algorithm) không dùng được với khóa \(keyType) / cannot be used with a \(keyType) key")
        }
        return named
    }

    func readChain(_ path: String) throws -> [Certificate] {
        do {
            let pem = try String(contentsOfFile: path, encoding: .utf8)
            return try PEMDocument.parseMultiple(pemString: pem).map { try Certificate(pemDocument: $0) }
        } catch {
            throw CLI.fail("Không đọc được chứng thư / cannot read the certificates in \(path): \(error)")
        }
    }

    /// By content, not by name: "%PDF-" in the first kilobyte (as PDF readers accept it).
    func isPDF(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path), let head = try? handle.read(upToCount: 1024) else { return false }
        try? handle.close()
        return Array(head).firstRange(of: Array("%PDF-".utf8)) != nil
    }
}
