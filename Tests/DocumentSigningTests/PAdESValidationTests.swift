import DocumentSigning
import Foundation
import Signing
import TestSupport
import XCTest

/// PDFs from several producers signed by us — twice, as the leader and then the organization
/// sign — and judged by independent validators: `qpdf --check`, poppler's `pdfsig`, and pyHanko
/// (intact, valid, trusted to the test root, the earlier signature still valid after the later
/// one). `pdftotext` of the result must equal that of the original. Needs openssl, qpdf,
/// poppler-utils, ghostscript, python3 with pyhanko and reportlab (scripts/install-deps).
final class PAdESValidationTests: XCTestCase {
    var directory: String!

    static let tools = ["/usr/bin/openssl", "/usr/bin/qpdf", "/usr/bin/pdfsig", "/usr/bin/pdftotext", "/usr/bin/gs"]
    static var python: String? {
        ["/usr/bin/python3", "/usr/local/bin/python3", ProcessInfo.processInfo.environment["HOME"].map { "\($0)/.pyenv/shims/python3" }]
            .compactMap { $0 }
            .first { FileManager.default.isExecutableFile(atPath: $0) && runProgram($0, ["-c", "import pyhanko, reportlab"]).status == 0 }
    }

    override func setUpWithError() throws {
        for tool in Self.tools {
            try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: tool), "needs \(tool) (scripts/install-deps)")
        }
        try XCTSkipUnless(Self.python != nil, "needs python3 with pyhanko and reportlab (scripts/install-deps)")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pades-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// PADES_KEEP=1 keeps the files (to open them when a judge disagrees).
    override func tearDownWithError() throws {
        if let directory, ProcessInfo.processInfo.environment["PADES_KEEP"] == nil { try? FileManager.default.removeItem(atPath: directory) }
    }

    func run(_ tool: String, _ arguments: [String]) -> (status: Int32, out: String, err: String) { runProgram(tool, arguments) }

    // MARK: Certificates

    typealias Chain = TestPKI.Signer

    /// A test root and two signers under it: the leader (RSA-2048) and the organization (P-256).
    func makeChains() throws -> (leader: Chain, organization: Chain) {
        let pki = try TestPKI(directory: directory)
        return (try pki.issue("leader", subject: "/CN=Nguyễn Văn An/O=UBND xã Hòa Tiến", key: .rsa2048),
                try pki.issue("organization", subject: "/CN=UBND xã Hòa Tiến/O=UBND xã Hòa Tiến", key: .p256))
    }

    // MARK: Producers

    /// Ghostscript's pdfwrite from a two-page PostScript program.
    func ghostscriptPDF() throws -> String {
        let ps = "\(directory!)/in.ps", pdf = "\(directory!)/ghostscript.pdf"
        try """
            %!PS
            /Times-Roman findfont 16 scalefont setfont
            72 720 moveto (Quyet dinh so 123/QD-UBND ve viec cap phep) show
            72 690 moveto (Trang mot cua van ban) show showpage
            /Helvetica findfont 12 scalefont setfont
            72 720 moveto (Trang hai: noi nhan, luu VT) show showpage
            """.write(toFile: ps, atomically: true, encoding: .utf8)
        let made = run("/usr/bin/gs", ["-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pdfwrite", "-sOutputFile=\(pdf)", ps])
        XCTAssertEqual(made.status, 0, made.err)
        return pdf
    }

    /// ReportLab: three pages, one with an image.
    func reportlabPDF() throws -> String {
        let pdf = "\(directory!)/reportlab.pdf"
        let made = run(Self.python!, ["-c", """
            from reportlab.pdfgen import canvas
            c = canvas.Canvas(\(pythonString(pdf)), pageCompression=1)
            for n in range(1, 4):
                c.setFont('Helvetica', 14)
                c.drawString(72, 760, 'Cong van so %d/UBND-VP, trang %d' % (100 + n, n))
                c.rect(72, 600, 200, 100, fill=1)
                c.showPage()
            c.save()
            """])
        XCTAssertEqual(made.status, 0, made.err)
        return pdf
    }

    /// A "scanned" document: Ghostscript's pdfimage24 device turns every page into one image,
    /// with no text at all, as a scanner's PDF has.
    func scannedPDF(from input: String) -> String {
        let output = "\(directory!)/scanned.pdf"
        let made = run("/usr/bin/gs", ["-q", "-dSAFER", "-sDEVICE=pdfimage24", "-r50", "-o", output, input])
        XCTAssertEqual(made.status, 0, made.err)
        return output
    }

    func qpdf(_ input: String, _ name: String, _ options: [String]) -> String {
        let output = "\(directory!)/\(name).pdf"
        let made = run("/usr/bin/qpdf", options + [input, output])
        XCTAssertTrue(made.status == 0 || made.status == 3, made.err)
        return output
    }

    func testPDF(_ name: String, _ layout: TestPDF.Layout, lineEnd: String = "\n", junk: String = "") throws -> String {
        var pdf = TestPDF.threePages()
        pdf.lineEnd = lineEnd
        pdf.junkAfterEOF = Array(junk.utf8)
        let path = "\(directory!)/\(name).pdf"
        try Data(pdf.bytes(layout)).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// `certifyWithoutChanges`: a certification signature with DocMDP P=1 instead of an approval one.
    func pyHankoSigned(_ input: String, _ signer: Chain, certifyWithoutChanges: Bool = false) -> String {
        let output = "\(directory!)/pyhanko-signed\(certifyWithoutChanges ? "-certified" : "").pdf"
        let metadata = certifyWithoutChanges
            ? "signers.PdfSignatureMetadata(field_name='PyHanko', certify=True, docmdp_permissions=MDPPerm.NO_CHANGES)"
            : "signers.PdfSignatureMetadata(field_name='PyHanko')"
        let made = run(Self.python!, ["-c", """
            from pyhanko.sign import signers
            from pyhanko.sign.fields import MDPPerm
            from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
            s = signers.SimpleSigner.load(\(pythonString(signer.key)), \(pythonString(signer.chain)))
            with open(\(pythonString(input)), 'rb') as i, open(\(pythonString(output)), 'wb') as o:
                w = IncrementalPdfFileWriter(i)
                signers.sign_pdf(w, \(metadata), signer=s, output=o)
            """])
        XCTAssertEqual(made.status, 0, made.err)
        return output
    }

    func pythonString(_ text: String) -> String { "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'" }

    // MARK: Judges

    struct PyHankoVerdict { let field: String; let line: String }

    /// One line per signature: field, intact, valid, trusted, coverage, modification level, bottom line.
    /// `strict: false` only for originals pyHanko's strict mode refuses before we touch them:
    /// hybrid-reference files (by policy: two readers may see two documents in one) and a
    /// Ghostscript bug (see the producer list); everything else is read strictly.
    func pyHanko(_ file: String, root: String, strict: Bool = true) -> [String: String] {
        let result = run(Self.python!, ["-c", """
            import sys
            from pyhanko.pdf_utils.reader import PdfFileReader
            from pyhanko.sign.validation import validate_pdf_signature
            from pyhanko_certvalidator import ValidationContext
            from pyhanko.keys import load_cert_from_pemder
            vc = ValidationContext(trust_roots=[load_cert_from_pemder(\(pythonString(root)))])
            with open(\(pythonString(file)), 'rb') as f:
                r = PdfFileReader(f, strict=\(strict ? "True" : "False"))
                for s in r.embedded_signatures:
                    st = validate_pdf_signature(s, vc)
                    print(s.field_name, 'intact' if st.intact else 'BROKEN', 'valid' if st.valid else 'INVALID',
                          'trusted' if st.trusted else 'UNTRUSTED', st.coverage.name, st.modification_level.name if st.modification_level else '-',
                          'OK' if st.bottom_line else 'FAIL')
            """])
        XCTAssertEqual(result.status, 0, result.err)
        var verdicts: [String: String] = [:]
        for line in result.out.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2 { verdicts[String(parts[0])] = String(parts[1]) }
        }
        return verdicts
    }

    /// Checks a signed file with all three judges: `expected` signatures in total, all valid.
    /// `appearance`: the lines of visible signatures, which pdftotext reads as page text (a block
    /// of the lines and a blank line); without them the text must be the original's, byte for byte.
    func judge(_ signed: String, original: String, root: String, expected: Int, appearance: [[String]] = [], strict: Bool = true,
               file: StaticString = #filePath, line: UInt = #line) {
        let check = run("/usr/bin/qpdf", ["--check", signed])
        XCTAssertEqual(check.status, 0, "qpdf --check \(signed): \(check.out) \(check.err)", file: file, line: line)
        XCTAssertTrue(check.out.contains("No syntax or stream encoding errors found"), check.out, file: file, line: line)

        let pdfsig = run("/usr/bin/pdfsig", [signed])
        let valid = pdfsig.out.components(separatedBy: "Signature Validation: Signature is Valid.").count - 1
        XCTAssertEqual(valid, expected, "pdfsig \(signed):\n\(pdfsig.out)\(pdfsig.err)", file: file, line: line)

        let verdicts = pyHanko(signed, root: root, strict: strict)
        XCTAssertEqual(verdicts.count, expected, "pyHanko \(signed): \(verdicts)", file: file, line: line)
        for (field, verdict) in verdicts {
            XCTAssertTrue(verdict.hasPrefix("intact valid trusted"), "pyHanko \(field) in \(signed): \(verdict)", file: file, line: line)
            XCTAssertTrue(verdict.hasSuffix("OK"), "pyHanko \(field) in \(signed): \(verdict)", file: file, line: line)
        }
        let before = run("/usr/bin/pdftotext", [original, "-"]).out
        var after = run("/usr/bin/pdftotext", [signed, "-"]).out
        for lines in appearance {
            let block = lines.joined(separator: "\n") + "\n\n"
            XCTAssertTrue(after.contains(block), "the visible signature's text \(lines) in \(after)", file: file, line: line)
            after = after.replacingOccurrences(of: block, with: "")
        }
        if !original.hasSuffix("scanned.pdf") {
            XCTAssertFalse(before.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "the original has text", file: file, line: line)
        }
        XCTAssertEqual(before, after, "pdftotext of \(signed)", file: file, line: line)
    }

    // MARK: Tests

    func testEveryProducerSignedTwiceStaysValid() async throws {
        let chains = try makeChains()
        let leader = try SoftwareKeySigner(keyFile: chains.leader.key, chainFile: chains.leader.chain)
        let organization = try SoftwareKeySigner(keyFile: chains.organization.key, chainFile: chains.organization.chain)
        let ghostscript = try ghostscriptPDF()
        let reportlab = try reportlabPDF()
        let inputs: [(String, String)] = [
            ("ghostscript", ghostscript),
            ("reportlab", reportlab),
            // Made once by LibreOffice Writer (Samples/libreoffice-writer.html is its source) and
            // committed, so the test needs no office suite: a Vietnamese letter with subset fonts.
            ("libreoffice", repositoryRoot.appendingPathComponent("Tests/DocumentSigningTests/Samples/libreoffice-writer.pdf").path),
            ("scanned (images only)", scannedPDF(from: ghostscript)),
            ("qpdf object streams", qpdf(ghostscript, "objstm", ["--object-streams=generate"])),
            ("qpdf linearized", qpdf(reportlab, "linearized", ["--linearize"])),
            ("qpdf linearized object streams", qpdf(reportlab, "linearized-objstm", ["--linearize", "--object-streams=generate"])),
            ("table, CRLF, junk after %%EOF", try testPDF("crlf", .table, lineEnd: "\r\n", junk: "\r\n-- \r\nsent by the mail gateway\r\n")),
            ("xref stream with object stream", try testPDF("xrefstream", .stream(compressed: [1, 2, 3, 4, 9]))),
            ("hybrid", try testPDF("hybrid", .hybrid(compressed: [3, 4, 9]))),
        ]
        for (name, input) in inputs {
            let once = "\(directory!)/\(name)-1.pdf", twice = "\(directory!)/\(name)-2.pdf"
            let first = try await PAdESSigner.sign(input: input, output: once, signer: leader, algorithm: .rsaPKCS1SHA256)
            XCTAssertEqual(first.byteRange[0], 0)
            // pyHanko's strict parsing refuses two of these before any signature: hybrid files (by
            // policy) and Ghostscript's pdfimage24 output (it writes "0000000000 65536 f", an
            // illegal generation). Those two are read leniently; every other file strictly.
            let strict = name != "hybrid" && !name.hasPrefix("scanned")
            judge(once, original: input, root: chains.leader.root, expected: 1, strict: strict)
            var visible = PAdESSigner.Options()
            visible.page = 1
            visible.rectangle = [300, 80, 220, 50]
            visible.lines = ["UBND xa Hoa Tien", "2026-11-21T09:15:02+07:00"]
            let second = try await PAdESSigner.sign(input: once, output: twice, signer: organization, algorithm: .ecdsaSHA256, options: visible)
            XCTAssertNotEqual(first.fieldName, second.fieldName, name)
            judge(twice, original: input, root: chains.leader.root, expected: 2, appearance: [visible.lines!], strict: strict)
            // The first revision is a prefix of the second: nothing was rewritten.
            let a = try Data(contentsOf: URL(fileURLWithPath: once)), b = try Data(contentsOf: URL(fileURLWithPath: twice))
            XCTAssertEqual(b.prefix(a.count), a, "\(name): the signed file is a prefix of the twice-signed one")
        }
    }

    func testAFileSignedByPyHankoKeepsItsSignature() async throws {
        let chains = try makeChains()
        let original = try ghostscriptPDF()
        let theirs = pyHankoSigned(original, chains.leader)
        judge(theirs, original: original, root: chains.leader.root, expected: 1)
        let organization = try SoftwareKeySigner(keyFile: chains.organization.key, chainFile: chains.organization.chain)
        let ours = "\(directory!)/pyhanko-then-us.pdf"
        var options = PAdESSigner.Options()
        options.rectangle = [72, 72, 200, 40]
        options.page = 2
        options.lines = ["Trang hai, ky boi UBND xa"]
        _ = try await PAdESSigner.sign(input: theirs, output: ours, signer: organization, algorithm: .ecdsaSHA384, options: options)
        judge(ours, original: original, root: chains.leader.root, expected: 2, appearance: [options.lines!])
        XCTAssertEqual(pyHanko(ours, root: chains.leader.root)["PyHanko"]?.hasPrefix("intact valid trusted"), true)

        // Certified by pyHanko with "no changes allowed": we refuse rather than break it.
        let certified = pyHankoSigned(original, chains.leader, certifyWithoutChanges: true)
        do {
            _ = try await PAdESSigner.sign(input: certified, output: "\(directory!)/refused.pdf", signer: organization, algorithm: .ecdsaSHA256)
            XCTFail("a DocMDP P=1 document must be refused")
        } catch let error as PDFError {
            XCTAssertEqual(error, .certifiedWithoutChanges)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory!)/refused.pdf"))
    }

    func testEveryDigestAndAChangedByteIsCaught() async throws {
        let chains = try makeChains()
        let leader = try SoftwareKeySigner(keyFile: chains.leader.key, chainFile: chains.leader.chain)
        let input = try testPDF("plain", .table)
        for algorithm: SignatureAlgorithm in [.rsaPKCS1SHA384, .rsaPSSSHA256, .rsaPKCS1SHA512] {
            let output = "\(directory!)/\(algorithm).pdf"
            _ = try await PAdESSigner.sign(input: input, output: output, signer: leader, algorithm: algorithm)
            judge(output, original: input, root: chains.leader.root, expected: 1)
        }
        // One byte of the original changed after signing: both independent validators must say so.
        let signed = "\(directory!)/\(SignatureAlgorithm.rsaPKCS1SHA384).pdf"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: signed))
        let at = bytes.range(of: Data("Trang hai".utf8))!.lowerBound
        bytes[at] = UInt8(ascii: "X")
        let tampered = "\(directory!)/tampered.pdf"
        try bytes.write(to: URL(fileURLWithPath: tampered))
        XCTAssertFalse(run("/usr/bin/pdfsig", [tampered]).out.contains("Signature is Valid"))
        XCTAssertEqual(pyHanko(tampered, root: chains.leader.root).values.first?.hasPrefix("BROKEN"), true)
    }

    func testATooSmallPlaceholderIsRetriedWithTheRealSize() async throws {
        let chains = try makeChains()
        let leader = try SoftwareKeySigner(keyFile: chains.leader.key, chainFile: chains.leader.chain)
        let input = try testPDF("small", .table)
        var options = PAdESSigner.Options()
        options.reservedSignatureBytes = 64
        let output = "\(directory!)/retried.pdf"
        let result = try await PAdESSigner.sign(input: input, output: output, signer: leader, algorithm: .rsaPKCS1SHA256, options: options)
        XCTAssertGreaterThan(result.reservedBytes, result.signatureBytes)
        XCTAssertGreaterThan(result.signatureBytes, 64)
        judge(output, original: input, root: chains.leader.root, expected: 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output + ".part-\(getpid())"), "no partial file left")
    }

    /// `gatewayd` beside the test bundle (whatever the scratch path), else the default build's.
    static var gatewayd: String? {
        let beside = Bundle.main.executableURL.map { $0.deletingLastPathComponent().appendingPathComponent("gatewayd").path }
        let bundle = URL(fileURLWithPath: Bundle.main.bundlePath).deletingLastPathComponent().appendingPathComponent("gatewayd").path
        return [beside, bundle, repositoryRoot.appendingPathComponent(".build/debug/gatewayd").path].compactMap { $0 }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    func testGatewaydSignsPDFsAndRefusesBadOnesClearly() throws {
        let gatewayd = try XCTUnwrap(Self.gatewayd, "needs the gatewayd binary: swift build first")
        let chains = try makeChains()
        let original = try reportlabPDF()
        let leader = "\(directory!)/cli-leader.pdf", attachment = "\(directory!)/cli-attachment.pdf"
        var result = run(gatewayd, ["sign", original, "--out", leader, "--role", "leader",
                                    "--signer", "key:\(chains.leader.key)", "--cert", chains.leader.chain])
        XCTAssertEqual(result.status, 0, result.err)
        XCTAssertTrue(result.out.contains("PAdES B-B"), result.out)
        judge(leader, original: original, root: chains.leader.root, expected: 1)
        result = run(gatewayd, ["sign", leader, "--out", attachment, "--role", "attachment", "--number", "123/UBND-VP",
                                "--page", "1", "--rect", "380,780,200,30",
                                "--signer", "key:\(chains.organization.key)", "--cert", chains.organization.chain])
        XCTAssertEqual(result.status, 0, result.err)
        let text = run("/usr/bin/pdftotext", [attachment, "-"]).out
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("123/UBND-VP ") }, text)
        XCTAssertTrue(line.hasSuffix("+07:00"), "ISO 8601 with the Vietnamese offset: \(line)")
        judge(attachment, original: original, root: chains.leader.root, expected: 2, appearance: [[String(line)]])

        // Refusals: a page that does not exist, a malformed box, a truncated file, a missing image.
        result = run(gatewayd, ["sign", original, "--out", "\(directory!)/x.pdf", "--page", "9",
                                "--signer", "key:\(chains.leader.key)", "--cert", chains.leader.chain])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.err.contains("trang 9 không có") && result.err.contains("page 9 does not exist"), result.err)
        let truncated = "\(directory!)/truncated.pdf"
        try Data(try Data(contentsOf: URL(fileURLWithPath: original)).prefix(1500)).write(to: URL(fileURLWithPath: truncated))
        result = run(gatewayd, ["sign", truncated, "--out", "\(directory!)/x.pdf",
                                "--signer", "key:\(chains.leader.key)", "--cert", chains.leader.chain])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.err.contains("startxref"), result.err)
        result = run(gatewayd, ["sign", original, "--out", "\(directory!)/x.pdf", "--role", "leader", "--image", "missing.png", "--rect", "1,1,50,50",
                                "--signer", "key:\(chains.leader.key)", "--cert", chains.leader.chain])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.err.contains("cannot read the image missing.png"), result.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory!)/x.pdf"), "a refused signature leaves no output")
    }
}
