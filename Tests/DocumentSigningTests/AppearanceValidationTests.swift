import DocumentSigning
import Foundation
import Signing
import TestSupport
import XCTest

/// The Decree 30 appearances judged from outside: each signed file passes qpdf, pdfsig and
/// pyHanko (the judges of PAdESValidationTests); `pdffonts` shows the embedded subset with a
/// ToUnicode map; `pdftotext` reads the Vietnamese text back; pages rendered by `pdftoppm`
/// (poppler) are read by Pillow and the pixels checked: blue signature strokes inside the
/// leader's box and centred, the red seal over the left third of the signature image at its real
/// size, dark text at the top right for attachment and copy where the original has none.
/// APPEARANCE_IMAGES=DIR copies two renders there (docs/images).
extension PAdESValidationTests {
    static let fontPath = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"
    /// 2026-11-21T09:15:02+07:00.
    static let signingTime = Date(timeIntervalSince1970: 1_795_227_302)
    static let dpi = 100.0

    func appearanceTools() throws -> TrueTypeFont {
        for tool in ["/usr/bin/pdftoppm", "/usr/bin/pdffonts"] {
            try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: tool), "needs \(tool) (poppler-utils)")
        }
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Self.fontPath), "needs fonts-liberation2 (scripts/install-deps)")
        try XCTSkipUnless(run(Self.python!, ["-c", "import PIL"]).status == 0, "needs Pillow (scripts/install-deps)")
        return try TrueTypeFont(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: Self.fontPath))))
    }

    /// A blue handwritten-like signature (300×120, strokes from edge to edge) and a red round
    /// seal (472×472 at 300 dpi = 40 mm), both on a transparent background, made by Pillow.
    func makeImages() throws -> (signature: String, seal: String) {
        let signature = "\(directory!)/signature.png", seal = "\(directory!)/seal.png"
        let made = run(Self.python!, ["-c", """
            import sys, math
            from PIL import Image, ImageDraw
            im = Image.new('RGBA', (300, 120), (0, 0, 0, 0))
            d = ImageDraw.Draw(im)
            points = [(2 + x, 60 + 52 * math.sin(x / 23.0)) for x in range(0, 297, 3)]
            d.line(points, fill=(20, 40, 200, 255), width=5)
            d.line([(40, 100), (260, 18)], fill=(20, 40, 200, 255), width=4)
            im.save(sys.argv[1], dpi=(300, 300))
            s = Image.new('RGBA', (472, 472), (0, 0, 0, 0))
            d = ImageDraw.Draw(s)
            d.ellipse((0, 0, 471, 471), outline=(220, 20, 30, 255), width=14)
            d.ellipse((60, 60, 411, 411), outline=(220, 20, 30, 255), width=6)
            d.regular_polygon((236, 236, 80), 5, fill=(220, 20, 30, 230))
            s.save(sys.argv[2], dpi=(300, 300))
            """, signature, seal])
        XCTAssertEqual(made.status, 0, made.err)
        return (signature, seal)
    }

    /// Page `page` rendered at 100 dpi; per colour class the pixel count and bounding box
    /// [left, top, right, bottom] in pixels (origin top left), and the image size.
    struct Render {
        var size: (width: Int, height: Int)
        var boxes: [String: (count: Int, box: [Int])]
        func box(_ name: String) -> [Int]? { boxes[name].flatMap { $0.count > 0 ? $0.box : nil } }
    }

    func render(_ pdf: String, page: Int = 1, region: [Int]? = nil, keepAs: String? = nil) throws -> Render {
        let prefix = "\(directory!)/render-\(UUID().uuidString)"
        let made = run("/usr/bin/pdftoppm", ["-r", "100", "-png", "-f", "\(page)", "-l", "\(page)", "-singlefile", pdf, prefix])
        XCTAssertEqual(made.status, 0, made.err)
        if let keepAs, let target = ProcessInfo.processInfo.environment["APPEARANCE_IMAGES"] {
            try? FileManager.default.removeItem(atPath: "\(target)/\(keepAs)")
            try FileManager.default.copyItem(atPath: prefix + ".png", toPath: "\(target)/\(keepAs)")
        }
        let region = region ?? [0, 0, 100_000, 100_000]
        let result = run(Self.python!, ["-c", """
            import sys
            from PIL import Image
            im = Image.open(sys.argv[1]).convert('RGB')
            l, t, r, b = [int(v) for v in sys.argv[2:6]]
            print('size', im.width, im.height)
            classes = {
                'blue': lambda p: p[2] > 140 and p[0] < 110 and p[1] < 130,
                'red': lambda p: p[0] > 150 and p[1] < 110 and p[2] < 110,
                'dark': lambda p: p[0] < 90 and p[1] < 90 and p[2] < 90,
            }
            px = im.load()
            for name, test in classes.items():
                xs, ys = [], []
                for y in range(max(0, t), min(im.height, b)):
                    for x in range(max(0, l), min(im.width, r)):
                        if test(px[x, y]):
                            xs.append(x); ys.append(y)
                print(name, len(xs), *( [min(xs), min(ys), max(xs), max(ys)] if xs else [0, 0, 0, 0]))
            """, prefix + ".png"] + region.map(String.init))
        XCTAssertEqual(result.status, 0, result.err)
        var render = Render(size: (0, 0), boxes: [:])
        for line in result.out.split(separator: "\n") {
            let parts = line.split(separator: " ").map(String.init)
            if parts[0] == "size" { render.size = (Int(parts[1])!, Int(parts[2])!); continue }
            render.boxes[parts[0]] = (Int(parts[1])!, parts[2...].map { Int($0)! })
        }
        return render
    }

    /// Points (origin bottom left) to pixels (origin top left) on a page of `pageHeight` points.
    func pixels(_ rectangle: [Double], pageHeight: Double) -> [Double] {
        let scale = Self.dpi / 72
        return [rectangle[0] * scale, (pageHeight - rectangle[1] - rectangle[3]) * scale,
                (rectangle[0] + rectangle[2]) * scale, (pageHeight - rectangle[1]) * scale]
    }

    /// `pdffonts`: our subset embedded, subset, with a ToUnicode map.
    func checkFonts(_ pdf: String, file: StaticString = #filePath, line: UInt = #line) {
        let fonts = run("/usr/bin/pdffonts", [pdf])
        let row = fonts.out.split(separator: "\n").first { $0.contains("+LiberationSerif") }
        XCTAssertNotNil(row, "pdffonts \(pdf):\n\(fonts.out)", file: file, line: line)
        guard let row else { return }
        let columns = row.split(separator: " ", omittingEmptySubsequences: true)
        XCTAssertTrue(columns[0].range(of: "^[A-Z]{6}\\+LiberationSerif$", options: .regularExpression) != nil, String(row), file: file, line: line)
        XCTAssertTrue(row.contains("CID TrueType") && row.contains("Identity-H"), String(row), file: file, line: line)
        // emb sub uni
        XCTAssertTrue(row.contains("yes yes yes"), "embedded, subset, unicode: \(row)", file: file, line: line)
    }

    func testLeaderThenOrganizationImagesAsDecree30Says() async throws {
        let font = try appearanceTools()
        let chains = try makeChains()
        let images = try makeImages()
        let leader = try SoftwareKeySigner(keyFile: chains.leader.key, chainFile: chains.leader.chain)
        let organization = try SoftwareKeySigner(keyFile: chains.organization.key, chainFile: chains.organization.chain)
        let original = try reportlabPDF()
        let pageHeight = try PDFDocument(path: original).page(1).box[3]

        // The leader: the signature image centred in the box, name and time under it.
        var options = PAdESSigner.Options()
        options.signingTime = Self.signingTime
        let box = [300.0, 100, 200, 80]
        let lines = ["Nguyễn Văn An", "2026-11-21T09:15:02+07:00"]
        let signatureImage = try PNGImage(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: images.signature))))
        options.appearance = SignatureAppearance(content: .image(signatureImage, lines: lines), rectangle: box, font: font)
        let once = "\(directory!)/leader.pdf"
        _ = try await PAdESSigner.sign(input: original, output: once, signer: leader, algorithm: .rsaPKCS1SHA256, options: options)
        judge(once, original: original, root: chains.leader.root, expected: 1, appearance: [lines])
        checkFonts(once)

        let leaderRender = try render(once)
        let boxPixels = pixels(box, pageHeight: pageHeight)
        let blue = try XCTUnwrap(leaderRender.box("blue"), "blue signature pixels on the page")
        XCTAssertGreaterThan(leaderRender.boxes["blue"]!.count, 500)
        // Inside the box (a pixel of rounding), centred in it, and as wide as the image fits:
        // 300×120 into 200 × (80 − 27 for two text lines) points is 132.5 × 53 points.
        XCTAssertGreaterThanOrEqual(Double(blue[0]), boxPixels[0] - 1)
        XCTAssertGreaterThanOrEqual(Double(blue[1]), boxPixels[1] - 1)
        XCTAssertLessThanOrEqual(Double(blue[2]), boxPixels[2] + 1)
        XCTAssertLessThanOrEqual(Double(blue[3]), boxPixels[3] + 1)
        XCTAssertEqual(Double(blue[0] + blue[2]) / 2, (boxPixels[0] + boxPixels[2]) / 2, accuracy: 3, "centred horizontally")
        XCTAssertEqual(Double(blue[2] - blue[0]), 132.5 * Self.dpi / 72, accuracy: 4, "the image's width")
        let originalRender = try render(original)
        XCTAssertNil(originalRender.box("blue"), "the original has no blue")

        // The organization: the seal at 40 mm (its pHYs), over the left third of the signature
        // image, found in the leader's widget (no --rect).
        let sealImage = try PNGImage(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: images.seal))))
        let sealSize = try XCTUnwrap(sealImage.sizeInMillimetres)
        XCTAssertEqual(sealSize.width, 40, accuracy: 0.05)
        var sealOptions = PAdESSigner.Options()
        sealOptions.signingTime = Self.signingTime.addingTimeInterval(300)
        sealOptions.appearance = SignatureAppearance(content: .seal(sealImage, width: sealSize.width * 72 / 25.4, height: sealSize.height * 72 / 25.4))
        let twice = "\(directory!)/leader-organization.pdf"
        _ = try await PAdESSigner.sign(input: once, output: twice, signer: organization, algorithm: .ecdsaSHA256, options: sealOptions)
        judge(twice, original: original, root: chains.leader.root, expected: 2, appearance: [lines])
        let a = try Data(contentsOf: URL(fileURLWithPath: once)), b = try Data(contentsOf: URL(fileURLWithPath: twice))
        XCTAssertEqual(b.prefix(a.count), a, "the leader-signed file is a prefix of the sealed one")

        let sealed = try render(twice, keepAs: "appearance-leader-organization.png")
        let red = try XCTUnwrap(sealed.box("red"), "red seal pixels")
        let third = Double(blue[0]) + Double(blue[2] - blue[0]) / 3
        XCTAssertEqual(Double(red[2]), third, accuracy: 4, "the seal's right edge a third into the signature image")
        XCTAssertLessThan(red[0], blue[0], "the seal stands out on the left")
        XCTAssertEqual(Double(red[1] + red[3]) / 2, Double(blue[1] + blue[3]) / 2, accuracy: 4, "centred on the signature vertically")
        XCTAssertEqual(Double(red[2] - red[0]), 40 / 25.4 * Self.dpi, accuracy: 4, "40 mm wide: the seal's real size")
        // The red overlaps the signature image's left third, and the rest of the signature stays blue.
        let overlap = try render(twice, region: [blue[0], blue[1], Int(third), blue[3]])
        XCTAssertGreaterThan(overlap.boxes["red"]!.count, 50, "seal pixels over the left third of the signature image")
        let rest = try render(twice, region: [Int(third) + 5, blue[1], blue[2] + 1, blue[3] + 1])
        XCTAssertGreaterThan(rest.boxes["blue"]!.count, 200)
        XCTAssertEqual(rest.boxes["red"]!.count, 0, "no seal over the right two thirds")
    }

    func testAttachmentAndCopyTextAtTheTopRight() async throws {
        let font = try appearanceTools()
        let chains = try makeChains()
        let organization = try SoftwareKeySigner(keyFile: chains.organization.key, chainFile: chains.organization.chain)
        for (name, original, lines) in [
            ("attachment", try reportlabPDF(), ["123/QĐ-UBND 2026-11-21T09:15:02+07:00"]),
            ("copy", try ghostscriptPDF(), ["SAO LỤC", "UBND xã Hòa Tiến", "2026-11-21T09:15:02+07:00"]),
        ] {
            var options = PAdESSigner.Options()
            options.signingTime = Self.signingTime
            options.appearance = SignatureAppearance(content: .text(lines), font: font)
            let signed = "\(directory!)/\(name)-signed.pdf"
            _ = try await PAdESSigner.sign(input: original, output: signed, signer: organization, algorithm: .ecdsaSHA256, options: options)
            judge(signed, original: original, root: chains.leader.root, expected: 1, appearance: [lines])
            checkFonts(signed)

            // Dark text in the top right corner (right half, top 60 points), where the original has none.
            let page = try PDFDocument(path: original).page(1).box
            let scale = Self.dpi / 72
            let corner = [Int(page[2] / 2 * scale), 0, Int(page[2] * scale), Int(60 * scale)]
            XCTAssertNil(try render(original, region: corner).box("dark"), "\(name): the original's corner is empty")
            let rendered = try render(signed, region: corner, keepAs: name == "attachment" ? "appearance-attachment.png" : nil)
            let dark = try XCTUnwrap(rendered.box("dark"), "\(name): text at the top right")
            XCTAssertGreaterThan(rendered.boxes["dark"]!.count, 100)
            // 5 mm from the right and top edges, plus 2 points of padding (a pixel of anti-aliasing).
            let margin = (5 / 25.4 * 72 + 2) * scale
            XCTAssertLessThanOrEqual(Double(dark[2]), page[2] * scale - margin + 1, name)
            XCTAssertGreaterThan(Double(dark[2]), page[2] * scale - margin - 6, "\(name): right-aligned to the margin")
            XCTAssertGreaterThanOrEqual(Double(dark[1]), margin - 1, name)
            XCTAssertLessThan(Double(dark[1]), margin + 6, "\(name): at the top")
            XCTAssertEqual(rendered.size.width, Int((page[2] * scale).rounded()), accuracy: 1)
        }
    }

    /// `gatewayd sign` end to end: the leader's image, then the seal placed from it, then an
    /// attachment at the top right with its number; and the refusals.
    func testGatewaydSignsWithDecree30Appearances() throws {
        _ = try appearanceTools()
        let gatewayd = try XCTUnwrap(Self.gatewayd, "needs the gatewayd binary: swift build first")
        let chains = try makeChains()
        let images = try makeImages()
        let original = try ghostscriptPDF()
        let leader = "\(directory!)/cli-leader.pdf", sealed = "\(directory!)/cli-sealed.pdf", attachment = "\(directory!)/cli-attachment.pdf"
        var result = run(gatewayd, ["sign", original, "--out", leader, "--role", "leader", "--image", images.signature, "--page", "1",
                                    "--rect", "330,120,180,70", "--signer", "key:\(chains.leader.key)", "--cert", chains.leader.chain])
        XCTAssertEqual(result.status, 0, result.err)
        judge(leader, original: original, root: chains.leader.root, expected: 1)
        result = run(gatewayd, ["sign", leader, "--out", sealed, "--role", "organization", "--image", images.seal,
                                "--signer", "key:\(chains.organization.key)", "--cert", chains.organization.chain])
        XCTAssertEqual(result.status, 0, result.err)
        XCTAssertTrue(result.out.contains("hiển thị / visible"), result.out)
        judge(sealed, original: original, root: chains.leader.root, expected: 2)
        let red = try XCTUnwrap(try render(sealed).box("red"), "the seal is drawn")
        let blue = try XCTUnwrap(try render(leader).box("blue"), "the signature is drawn")
        XCTAssertEqual(Double(red[2]), Double(blue[0]) + Double(blue[2] - blue[0]) / 3, accuracy: 4)

        result = run(gatewayd, ["sign", original, "--out", attachment, "--role", "attachment", "--number", "45/TB-UBND",
                                "--signer", "key:\(chains.organization.key)", "--cert", chains.organization.chain])
        XCTAssertEqual(result.status, 0, result.err)
        let text = run("/usr/bin/pdftotext", [attachment, "-"]).out
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("45/TB-UBND 20") }, text)
        XCTAssertTrue(line.hasSuffix("+07:00"), String(line))
        judge(attachment, original: original, root: chains.leader.root, expected: 1, appearance: [[String(line)]])
        checkFonts(attachment)

        // Refusals, each naming what to do: a seal without a resolution or a size, a leader's
        // image without a box, a copy without its kind, a broken PNG.
        let noDPI = "\(directory!)/seal-no-dpi.png"
        XCTAssertEqual(run(Self.python!, ["-c", "import sys; from PIL import Image; Image.new('RGBA', (50, 50), (255, 0, 0, 255)).save(sys.argv[1])", noDPI]).status, 0)
        let refusals: [([String], String)] = [
            (["--role", "organization", "--image", noDPI], "give --image-width-mm"),
            (["--role", "leader", "--image", images.signature], "needs --page and --rect"),
            (["--role", "copy"], "needs --copy-kind"),
            (["--role", "attachment"], "needs --number"),
            (["--role", "leader", "--image", original, "--rect", "1,1,50,50"], "not a PNG file"),
            (["--image", images.seal], "only with --role leader or organization"),
        ]
        for (arguments, message) in refusals {
            result = run(gatewayd, ["sign", leader, "--out", "\(directory!)/x.pdf"] + arguments
                         + ["--signer", "key:\(chains.organization.key)", "--cert", chains.organization.chain])
            XCTAssertNotEqual(result.status, 0, "\(arguments)")
            XCTAssertTrue(result.err.contains(message), "\(arguments): \(result.err)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory!)/x.pdf"))
        // With --image-width-mm the same seal is accepted, and the copy with its kind.
        result = run(gatewayd, ["sign", leader, "--out", "\(directory!)/mm.pdf", "--role", "organization", "--image", noDPI, "--image-width-mm", "30",
                                "--signer", "key:\(chains.organization.key)", "--cert", chains.organization.chain])
        XCTAssertEqual(result.status, 0, result.err)
        result = run(gatewayd, ["sign", original, "--out", "\(directory!)/copy.pdf", "--role", "copy", "--copy-kind", "trich-sao",
                                "--signer", "key:\(chains.organization.key)", "--cert", chains.organization.chain])
        XCTAssertEqual(result.status, 0, result.err)
        let copyText = run("/usr/bin/pdftotext", ["\(directory!)/copy.pdf", "-"]).out
        XCTAssertTrue(copyText.contains("TRÍCH SAO\nUBND xã Hòa Tiến\n"), copyText)
    }

    func testAppearanceRefusals() async throws {
        let font = try appearanceTools()
        let chains = try makeChains()
        let organization = try SoftwareKeySigner(keyFile: chains.organization.key, chainFile: chains.organization.chain)
        let original = try reportlabPDF()
        let images = try makeImages()
        let seal = try PNGImage(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: images.seal))))
        var options = PAdESSigner.Options()
        // A seal with no earlier signature image to stand beside.
        options.appearance = SignatureAppearance(content: .seal(seal, width: 100, height: 100))
        do {
            _ = try await PAdESSigner.sign(input: original, output: "\(directory!)/x.pdf", signer: organization, algorithm: .ecdsaSHA256, options: options)
            XCTFail("a seal needs the leader's signature")
        } catch let error as SignatureAppearance.Failure {
            XCTAssertEqual(error, .noEarlierSignatureImage)
        }
        // A character the font lacks: named, nothing written.
        options.appearance = SignatureAppearance(content: .text(["Hà Nội 漢"]), font: font)
        do {
            _ = try await PAdESSigner.sign(input: original, output: "\(directory!)/x.pdf", signer: organization, algorithm: .ecdsaSHA256, options: options)
            XCTFail("a missing glyph must be refused")
        } catch let error as SignatureAppearance.Failure {
            XCTAssertEqual(error, .font(.missingGlyph("漢", font: "LiberationSerif")))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory!)/x.pdf"))
    }
}
