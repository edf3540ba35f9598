// `gatewayd sign`: sign a file with a token or a key file. A PDF gets a PAdES B-B (B-T with --tsa) signature by
// incremental update (invisible, or visible with the Decree 30 appearance of its --role: see
// SignAppearance.swift and docs/pades.md); other files a detached CAdES-B signature (`.p7s`).
// The signing itself is DocumentSigning's (FileSigning, PAdESSigner); this reads the options (the signer: SignerOptions).
import ArgumentParser
import DocumentSigning
import Foundation
import Signing
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
    @OptionGroup var signing: SignerOptions
    @Option(help: "rsa-pkcs1-sha256, rsa-pss-sha256, ecdsa-sha256 … (default: the key's preferred one).") var algorithm: String?
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

    func validate() throws {
        if signing.signer == nil { throw ValidationError("cần --signer token:9c hoặc / or key:KEY.pem") }
    }

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
                throw SignerOptions.failure(error)
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
            throw SignerOptions.failure(error)
        }
        print("Đã ký / signed: \(out) (PAdES \(options.timestamp == nil ? "B-B" : "B-T"), \(chosen), trường / field \(result.fieldName), trang / page \(page)/\(result.pageCount), "
              + "\(options.rectangle == nil && options.appearance == nil ? "không hiển thị / invisible" : "hiển thị / visible"), CMS \(result.signatureBytes)/\(result.reservedBytes) byte, "
              + "\(signer.certificate.subject))")
    }

    func makeSigner() throws -> any Signer {
        guard let signer = try signing.makeSigner() else { throw CLI.fail("cần --signer / --signer is needed") }
        return signer
    }

}
