// `gatewayd sign`: sign a file with a token or a key file. A PDF gets a PAdES B-B (B-T with --tsa) signature by
// incremental update (invisible, or visible with the Decree 30 appearance of its --role: see
// SignAppearance.swift and docs/pades.md); other files a detached CAdES-B signature (`.p7s`).
// The signing itself is DocumentSigning's (FileSigning, PAdESSigner); this reads the options.
import ArgumentParser
import DocumentSigning
import Foundation
import Signing
import SwiftASN1
import TokenCommandLine
import TokenDriver
import X509

struct Sign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ký số một tệp / sign a file (PAdES for a PDF, CAdES .p7s for other files).",
        discussion: """
            --signer token:9c signs on the PIV token (slot 9a, 9c, 9d or 9e; the PIN from --pin-file \
            or the terminal, tried once); --signer key:KEY.pem with a key file (development and \
            the demo only). --cert gives the chain: for a key file the signer's certificate first, \
            then its issuers; for a token only the issuers (the token holds the signer's own).
            A PDF is signed by incremental update (the original bytes are kept): invisible by \
            default; --page N --rect x,y,w,h (points, origin at the page's bottom left) gives a \
            visible box with the signer's name and the time. --role is recorded as the signature's \
            reason and chooses the Decree 30/2020 appearance:
            \(Sign.appearanceHelp)
            """)

    @Argument(help: "The file to sign.") var file: String
    @Option(help: "Where to write the signed PDF, or the signature (.p7s) of another file.") var out: String
    @Option(help: "token:SLOT or key:KEYFILE.") var signer: String
    @Option(help: "Certificate chain (PEM).") var cert: String?
    @Option(help: "Reader name, for a token (default: the first reader with a PIV token).") var reader: String?
    @Option(help: "rsa-pkcs1-sha256, rsa-pss-sha256, ecdsa-sha256 … (default: the key's preferred one).") var algorithm: String?
    @Option(name: .customLong("pin-file"), help: "A file whose first line is the token's PIN.") var pinFile: String?
    @Option(help: "PDF: leader, organization, attachment or copy (Decree 30/2020 Appendix I).") var role: String?
    @Option(help: "PDF: the page that carries the signature field (1 = first).") var page: Int = 1
    @Option(help: "PDF: x,y,w,h of a visible signature box in points; none = invisible.") var rect: String?
    @Option(help: "PDF: ảnh chữ ký (leader) hoặc con dấu (organization), PNG trong suốt / the signature (leader) or seal (organization) image, a transparent PNG.") var image: String?
    @Option(help: "PDF: số, ký hiệu văn bản cho tệp đính kèm / document number/notation for the attachment role's text (e.g. 123/UBND-VP).") var number: String?
    @Option(name: .customLong("image-width-mm"), help: "PDF: bề rộng thật của con dấu (mm) khi ảnh không ghi độ phân giải / the seal's real width in mm when the PNG has no pHYs.") var imageWidthMM: Double?
    @Option(name: .customLong("copy-kind"), help: "PDF, copy: sao-y, sao-luc hoặc / or trich-sao.") var copyKind: String?
    @Option(help: "PDF, copy: cơ quan sao / the copying organization (default: the certificate's O, else CN).") var organization: String?
    @Flag(name: .customLong("show-signer"), help: "PDF, leader: ghi họ tên và thời gian dưới ảnh chữ ký / print the name and time under the signature image.") var showSigner = false
    @Option(help: "PDF: phông TrueType để nhúng / the TrueType font to embed (default: Liberation Serif).") var font: String = Sign.defaultFont
    @OptionGroup var trustOptions: SignTrustOptions

    func run() async throws {
        do {
            if FileSigning.isPDF(path: file) { return try await signPDF() }
            let signer = try makeSigner()
            try await trustOptions.checkBeforeSigning(signer)
            let chosen = try FileSigning.algorithm(named: algorithm, for: signer.keyType)
            do {
                try await FileSigning.signDetached(path: file, output: out, signer: signer, algorithm: chosen, timestamp: trustOptions.timestamp)
            } catch let error as FileSigning.Failure {
                throw error
            } catch let error as TimeStampError {
                throw CLI.fail(error.description)
            } catch {
                throw Self.signingFailure(error)
            }
            print("Đã ký / signed: \(out) (\(chosen), \(signer.certificate.subject))")
        } catch let failure as FileSigning.Failure {
            throw CLI.fail(failure.description)
        }
    }

    func signPDF() async throws {
        var options = PAdESSigner.Options()
        options.page = page
        let role = try self.role.map(FileSigning.role)
        if let rect { options.rectangle = try FileSigning.rectangle(rect) }
        options.reason = role?.reason
        let signer = try makeSigner()
        try await trustOptions.checkBeforeSigning(signer)
        options.timestamp = trustOptions.timestamp
        options.appearance = try makeAppearance(signer: signer, rectangle: options.rectangle, time: options.signingTime, zone: options.timeZone)
        let chosen = try FileSigning.algorithm(named: algorithm, for: signer.keyType)
        let result: PAdESSigner.Result
        do {
            result = try await PAdESSigner.sign(input: file, output: out, signer: signer, algorithm: chosen, options: options)
        } catch let error as PDFError {
            throw CLI.fail("\(file): \(error.description)")
        } catch let error as SignatureAppearance.Failure {
            throw CLI.fail("\(file): \(error.description)")
        } catch let error as TimeStampError {
            throw CLI.fail(error.description)
        } catch {
            throw Self.signingFailure(error)
        }
        print("Đã ký / signed: \(out) (PAdES \(options.timestamp == nil ? "B-B" : "B-T"), \(chosen), trường / field \(result.fieldName), trang / page \(page)/\(result.pageCount), "
              + "\(options.rectangle == nil && options.appearance == nil ? "không hiển thị / invisible" : "hiển thị / visible"), CMS \(result.signatureBytes)/\(result.reservedBytes) byte, "
              + "\(signer.certificate.subject))")
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

    func readChain(_ path: String) throws -> [Certificate] {
        do {
            let pem = try String(contentsOfFile: path, encoding: .utf8)
            return try PEMDocument.parseMultiple(pemString: pem).map { try Certificate(pemDocument: $0) }
        } catch {
            throw CLI.fail("Không đọc được chứng thư / cannot read the certificates in \(path): \(error)")
        }
    }

    /// A failure of the token, the key or the signature as the clerk reads it (exit status 1).
    static func signingFailure(_ error: any Error) -> any Error {
        switch error {
        case let failure as PIVToken.Failure: CLI.fail(failure.description)
        case let error as PCSCError: CLI.fail(error.description)
        case let error as SignerError: CLI.fail(error.description)
        default: error
        }
    }
}
