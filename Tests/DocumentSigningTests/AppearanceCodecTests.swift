@testable import DocumentSigning
import Foundation
import Inflate
import TestSupport
import XCTest

/// The pieces of the Decree 30 appearance on their own: the deflate helper, the PNG reader and
/// the TrueType subsetter. Known vectors are made by independent tools where they are installed
/// (Pillow writes PNGs and decodes them for comparison; fontTools reads our subsets and checks
/// every checksum), and every truncated or corrupted input must end in an error, not a crash.
final class AppearanceCodecTests: XCTestCase {
    static let fontPath = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"
    static var python: String? {
        ["/usr/bin/python3", "/usr/local/bin/python3", ProcessInfo.processInfo.environment["HOME"].map { "\($0)/.pyenv/shims/python3" }]
            .compactMap { $0 }
            .first { FileManager.default.isExecutableFile(atPath: $0) && runProgram($0, ["-c", "import PIL, fontTools"]).status == 0 }
    }

    func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("appearance-\(UUID().uuidString)-\(name)").path
    }

    func libertionSerif() throws -> TrueTypeFont {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Self.fontPath), "needs fonts-liberation2 (scripts/install-deps)")
        return try TrueTypeFont(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: Self.fontPath))))
    }

    // MARK: Deflate

    func testDeflateRoundTripsThroughInflate() throws {
        let inputs: [[UInt8]] = [[], Array("Nguyễn Văn An".utf8), (0..<300_000).map { UInt8(truncatingIfNeeded: $0 * 7 / 3) }]
        for input in inputs {
            let compressed = try Deflater.deflate(input)
            XCTAssertEqual(compressed.first, 0x78, "a zlib header")
            XCTAssertEqual(try Inflater.inflate(compressed, format: .zlib, limit: input.count + 1), input)
        }
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926, "the CRC-32 check value")
    }

    // MARK: PNG

    /// A PNG from chunks, with correct CRCs unless a test breaks them.
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(data.count) + body + be32(Int(CRC32.checksum(body)))
    }
    static func be32(_ value: Int) -> [UInt8] { [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
    static func png(width: Int, height: Int, depth: Int = 8, colourType: Int, raw: [UInt8], extra: [[UInt8]] = []) throws -> [UInt8] {
        PNGImage.signature + chunk("IHDR", be32(width) + be32(height) + [UInt8(depth), UInt8(colourType), 0, 0, 0])
            + extra.joined() + chunk("IDAT", try Deflater.deflate(raw)) + chunk("IEND", [])
    }

    /// Five RGB rows, one per filter type, each filtered by the definition (PNG §9.2) from known
    /// pixels: decoding must give the pixels back.
    func testAllFiveFiltersKnownVector() throws {
        let width = 4, height = 5, bpp = 3
        let pixels: [[UInt8]] = (0..<height).map { row in (0..<(width * bpp)).map { UInt8(truncatingIfNeeded: row * 37 + $0 * 23 + ($0 % 3) * 91) } }
        var raw: [UInt8] = []
        for (row, line) in pixels.enumerated() {
            raw.append(UInt8(row))
            for index in 0..<line.count {
                let a = index >= bpp ? Int(line[index - bpp]) : 0
                let b = row > 0 ? Int(pixels[row - 1][index]) : 0
                let c = row > 0 && index >= bpp ? Int(pixels[row - 1][index - bpp]) : 0
                let p = a + b - c
                let paeth = abs(p - a) <= abs(p - b) && abs(p - a) <= abs(p - c) ? a : (abs(p - b) <= abs(p - c) ? b : c)
                let predictor = [0, a, b, (a + b) / 2, paeth][row]
                raw.append(line[index] &- UInt8(truncatingIfNeeded: predictor))
            }
        }
        let image = try PNGImage(bytes: try Self.png(width: width, height: height, colourType: 2, raw: raw))
        XCTAssertEqual(image.samples, Array(pixels.joined()))
        XCTAssertEqual(image.components, 3)
        XCTAssertNil(image.alpha)
        XCTAssertNil(image.pixelsPerMetre)
    }

    /// Pillow writes every colour type, 1-bit gray and 4-bit palette too (with its own filter choices); Pillow's decoding of the
    /// same files is the expected answer.
    func testEveryColourTypeAgainstPillow() throws {
        try XCTSkipUnless(Self.python != nil, "needs python3 with Pillow and fontTools (scripts/install-deps)")
        let python = Self.python!
        let directory = temporary("png")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Each file: name, then Pillow's RGB(A) or L(A) bytes as hex on the next line.
        let script = """
            import sys
            from PIL import Image, ImageDraw
            d = sys.argv[1]
            base = Image.new('RGBA', (37, 23), (0, 0, 0, 0))
            g = ImageDraw.Draw(base)
            g.ellipse((2, 2, 34, 20), outline=(200, 20, 30, 255), width=3)
            g.line((0, 22, 36, 0), fill=(10, 40, 220, 180), width=2)
            for x in range(37):
                base.putpixel((x, 11), (x * 7 % 256, 255 - x * 5, x * 3, 255 if x % 2 else 128))
            variants = {
                'rgba': (base, 'RGBA'), 'rgb': (base.convert('RGB'), 'RGB'), 'gray': (base.convert('L'), 'L'),
                'gray-alpha': (base.convert('LA'), 'LA'), 'bilevel': (base.convert('1'), 'L'), 'palette': (base.convert('RGB').convert('P', palette=Image.ADAPTIVE, colors=50), 'RGB'),
            }
            for name, (im, mode) in variants.items():
                im.save(f'{d}/{name}.png', dpi=(600, 600))
                print(name, mode, Image.open(f'{d}/{name}.png').convert(mode).tobytes().hex())
            base.save(f'{d}/rgba16.png')
            # 16-bit gray through I;16 and palette with tRNS.
            Image.new('I;16', (5, 3), 1234).save(f'{d}/gray16.png')
            print('gray16', 'L', bytes([1234 >> 8] * 15).hex())
            p = base.convert('RGB').convert('P', palette=Image.ADAPTIVE, colors=16)
            p.info['transparency'] = 0
            p.save(f'{d}/palette-trns.png', transparency=0)
            print('palette-trns', 'RGBA', Image.open(f'{d}/palette-trns.png').convert('RGBA').tobytes().hex())
            """
        let result = runProgram(python, ["-c", script, directory])
        XCTAssertEqual(result.status, 0, result.err)
        for line in result.out.split(separator: "\n") {
            let parts = line.split(separator: " ")
            let name = String(parts[0]), mode = String(parts[1])
            let expected = stride(from: 0, to: parts[2].count, by: 2).map { offset -> UInt8 in
                let start = parts[2].index(parts[2].startIndex, offsetBy: offset)
                return UInt8(parts[2][start..<parts[2].index(start, offsetBy: 2)], radix: 16)!
            }
            let image = try PNGImage(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name).png"))))
            let channels = image.components
            var ours: [UInt8] = []
            for pixel in 0..<(image.width * image.height) {
                ours += image.samples[(pixel * channels)..<((pixel + 1) * channels)]
                if mode.hasSuffix("A") { ours.append(image.alpha?[pixel] ?? 255) }
            }
            XCTAssertEqual(ours, expected, name)
            if name != "gray16" && name != "palette-trns" {
                // 600 dpi = 23,622 pixels per metre: 37 pixels are 1.566 mm.
                XCTAssertEqual(image.pixelsPerMetre?.x, 23_622, name)
                XCTAssertEqual(image.sizeInMillimetres?.width ?? 0, 37 * 1000 / 23_622.0, accuracy: 0.001, name)
            }
        }
        XCTAssertEqual(result.out.split(separator: "\n").count, 8)
        let rgba16 = try PNGImage(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/rgba16.png"))))
        XCTAssertEqual(rgba16.width, 37)
    }

    func testBadPNGsAreRefusedClearly() throws {
        // One row (filter 0) of two RGBA pixels.
        let raw: [UInt8] = [0, 255, 0, 0, 255, 0, 0, 255, 128]
        let good = try Self.png(width: 2, height: 1, colourType: 6, raw: raw)
        XCTAssertEqual(try PNGImage(bytes: good).alpha, [255, 128])
        // Every truncation is an error.
        for cut in 0..<good.count {
            XCTAssertThrowsError(try PNGImage(bytes: Array(good.prefix(cut))), "cut at \(cut)")
        }
        // A flipped bit in the IHDR's data: the CRC says so.
        var flipped = good
        flipped[20] ^= 0x01
        XCTAssertThrowsError(try PNGImage(bytes: flipped)) { XCTAssertEqual($0 as? PNGImage.Failure, .badCRC(chunk: "IHDR")) }
        // Filter type 5 does not exist.
        XCTAssertThrowsError(try PNGImage(bytes: try Self.png(width: 2, height: 1, colourType: 6, raw: [5] + Array(repeating: 0, count: 8)))) {
            XCTAssertEqual($0 as? PNGImage.Failure, .malformed("filter type 5 in row 0"))
            XCTAssertTrue("\($0)".contains("malformed PNG"))
        }
        // Too little image data, and too much.
        XCTAssertThrowsError(try PNGImage(bytes: try Self.png(width: 2, height: 2, colourType: 6, raw: Array(raw.prefix(9)))))
        XCTAssertThrowsError(try PNGImage(bytes: try Self.png(width: 1, height: 1, colourType: 0, raw: [0, 1, 2, 3])))
        // 10,000 × 10,000 is refused from the header, before anything is inflated.
        XCTAssertThrowsError(try PNGImage(bytes: try Self.png(width: 10_000, height: 10_000, colourType: 6, raw: []))) {
            XCTAssertEqual($0 as? PNGImage.Failure, .tooLarge(width: 10_000, height: 10_000, limit: 25_000_000))
            XCTAssertTrue("\($0)".contains("too large"))
        }
        // Interlaced images: named as unsupported, not misread; a depth PNG does not define.
        var interlaced = PNGImage.signature + Self.chunk("IHDR", Self.be32(1) + Self.be32(1) + [8, 0, 0, 0, 1])
        interlaced += Self.chunk("IEND", [])
        XCTAssertThrowsError(try PNGImage(bytes: interlaced)) { XCTAssertEqual($0 as? PNGImage.Failure, .unsupported("interlaced (Adam7)")) }
        XCTAssertThrowsError(try PNGImage(bytes: try Self.png(width: 1, height: 1, depth: 4, colourType: 2, raw: [0, 0]))) {
            XCTAssertEqual($0 as? PNGImage.Failure, .malformed("bit depth 4 for colour type 2"))
        }
        XCTAssertThrowsError(try PNGImage(bytes: Array("GIF89a....".utf8))) { XCTAssertEqual($0 as? PNGImage.Failure, .notPNG) }
    }

    // MARK: TrueType

    func testVietnameseMapsToPrecomposedGlyphsAndAMissingCharacterIsNamed() throws {
        let font = try libertionSerif()
        XCTAssertEqual(font.postScriptName, "LiberationSerif")
        XCTAssertEqual(font.unitsPerEm, 2048)
        let composed = "Nguyễn Văn An, UBND xã Hòa Tiến, SAO LỤC, TRÍCH SAO, 123/QĐ-UBND ạ"
        let decomposed = composed.decomposedStringWithCanonicalMapping
        XCTAssertNotEqual(Array(composed.unicodeScalars), Array(decomposed.unicodeScalars))
        let glyphs = try font.glyphs(for: decomposed)
        XCTAssertEqual(glyphs.map(\.glyph), try font.glyphs(for: composed).map(\.glyph), "NFC before mapping")
        XCTAssertEqual(glyphs.count, composed.count, "one glyph per character: every one precomposed in the font")
        XCTAssertEqual(glyphs.map(\.text).joined(), composed)
        XCTAssertNotNil(font.glyph(for: "\u{1EA1}"), "ạ")
        XCTAssertNotEqual(font.glyph(for: "ễ"), font.glyph(for: "e"))
        // Times New Roman's metrics: "A" is 1479/2048 em, the space 512/2048.
        XCTAssertEqual(font.width(ofGlyph: font.glyph(for: "A")!), 1479 * 1000 / 2048.0, accuracy: 0.01)
        XCTAssertEqual(try font.width(of: "  ", size: 10), 2 * 512 * 10 / 2048.0, accuracy: 0.001)
        XCTAssertThrowsError(try font.glyphs(for: "Hà Nội 漢")) { error in
            XCTAssertEqual(error as? TrueTypeFont.Failure, .missingGlyph("漢", font: "LiberationSerif"))
            XCTAssertTrue("\(error)".contains("“漢”") && "\(error)".contains("U+6F22"), "\(error)")
        }
    }

    /// The subset read back by us and by fontTools (which checks every table checksum and
    /// checkSumAdjustment): kept glyphs have their outlines, the others are empty, ids unchanged.
    func testSubsetIsAValidFontWithTheUsedGlyphsOnly() throws {
        let font = try libertionSerif()
        let text = "Nguyễn Văn An ạ Đ"
        let used = Set(try font.glyphs(for: text).map(\.glyph))
        let subset = try font.subset(keeping: used)
        XCTAssertLessThan(subset.count, 120_000, "the subset (\(subset.count) bytes) is far smaller than the font")
        XCTAssertEqual(TrueTypeFont.checksum(subset), 0xB1B0_AFBA, "checkSumAdjustment makes the whole file sum to the magic number")
        let reread = try TrueTypeFont(bytes: subset)
        XCTAssertEqual(reread.glyphCount, font.glyphCount)
        XCTAssertEqual(try reread.glyphs(for: text).map(\.glyph), try font.glyphs(for: text).map(\.glyph))
        let kept = try reread.closure(of: used.union([0]), reader: .init(subset))
        XCTAssertTrue(kept.isSuperset(of: used))

        try XCTSkipUnless(Self.python != nil, "needs python3 with Pillow and fontTools (scripts/install-deps)")
        let python = Self.python!
        let path = temporary("subset.ttf")
        try Data(subset).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = runProgram(python, ["-c", """
            import sys
            from fontTools.ttLib import TTFont
            f = TTFont(sys.argv[1], checkChecksums=2)
            f.ensureDecompiled()
            glyf, order = f['glyf'], f.getGlyphOrder()
            cmap = f.getBestCmap()
            print('tables', ' '.join(sorted(f.keys())))
            print('numGlyphs', f['maxp'].numGlyphs)
            for ch in sys.argv[2]:
                g = glyf[cmap[ord(ch)]]
                print('glyph', ord(ch), f.getGlyphID(cmap[ord(ch)]), g.numberOfContours)
            for ch in sys.argv[3]:
                print('dropped', ord(ch), glyf[cmap[ord(ch)]].numberOfContours)
            print('emptied', sum(1 for name in order if glyf[name].numberOfContours == 0))
            """, path, "NguyễnạĐ", "Zz,"])
        XCTAssertEqual(result.status, 0, "fontTools refuses the subset: \(result.err)")
        let lines = result.out.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first { $0.hasPrefix("numGlyphs") }, "numGlyphs \(font.glyphCount)")
        XCTAssertFalse(lines[0].contains("GSUB") || lines[0].contains("GPOS"), lines[0])
        for line in lines where line.hasPrefix("glyph ") {
            let parts = line.split(separator: " ")
            let scalar = Unicode.Scalar(UInt32(parts[1])!)!
            XCTAssertEqual(Int(parts[2]), font.glyph(for: scalar), "glyph ids unchanged")
            XCTAssertNotEqual(parts[3], "0", "U+\(String(scalar.value, radix: 16)) keeps its outline (or composite)")
        }
        let dropped = lines.filter { $0.hasPrefix("dropped ") }
        XCTAssertEqual(dropped.count, 3)
        for line in dropped { XCTAssertTrue(line.hasSuffix(" 0"), "a glyph the text does not use is emptied: \(line)") }
        let emptied = Int(lines.last!.split(separator: " ")[1])!
        XCTAssertGreaterThan(emptied, font.glyphCount - 50, "the unused glyphs are emptied")
    }

    func testTruncatedOrForeignFontsAreErrors() throws {
        let font = try libertionSerif()
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: Self.fontPath)))
        XCTAssertGreaterThan(font.glyphCount, 2000)
        // The header and table directory at every length, then cuts through the tables.
        for cut in Array(0..<400) + stride(from: 400, to: bytes.count, by: 4099).map({ $0 }) {
            let prefix = Array(bytes.prefix(cut))
            do {
                let partial = try TrueTypeFont(bytes: prefix)
                // A cut that leaves the tables the reader needs (glyf is read at subset time).
                _ = try? partial.subset(keeping: [1, 2, 3])
            } catch {
                // Typed throws: only a TrueTypeFont.Failure can arrive here, with its message.
                XCTAssertTrue(error.description.contains("TrueType"), "cut at \(cut): \(error)")
            }
        }
        XCTAssertThrowsError(try TrueTypeFont(bytes: Array("OTTO".utf8) + [UInt8](repeating: 0, count: 20))) {
            XCTAssertTrue("\($0)".contains("CFF"), "\($0)")
        }
    }

    /// Random byte changes (a fixed seed, so a failure repeats) to a PNG and to a font subset:
    /// each parse ends in a value or an error, never a trap or a hang.
    func testMutatedInputsNeverCrash() throws {
        var state: UInt64 = 0x5EED_0F_DEC_30
        func next() -> Int {
            // SplitMix64.
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int(truncatingIfNeeded: (z ^ (z >> 31)) >> 1)
        }
        func mutate(_ bytes: [UInt8]) -> [UInt8] {
            var copy = bytes
            for _ in 0..<(1 + next() % 4) { copy[next() % copy.count] = UInt8(truncatingIfNeeded: next()) }
            return copy
        }
        let png = try Self.png(width: 3, height: 2, colourType: 3, raw: [0, 0, 1, 2, 0, 2, 1, 0],
                               extra: [Self.chunk("PLTE", [255, 0, 0, 0, 0, 255, 9, 9, 9]), Self.chunk("tRNS", [0, 128])])
        XCTAssertEqual(try PNGImage(bytes: png).alpha, [0, 128, 255, 255, 128, 0])
        var decoded = 0
        for _ in 0..<3000 where (try? PNGImage(bytes: mutate(png))) != nil { decoded += 1 }
        // Most changes hit a CRC; the ones that decode changed nothing that matters (or a CRC byte pair).
        XCTAssertLessThan(decoded, 3000)

        let font = try libertionSerif()
        let subset = try font.subset(keeping: Set(try font.glyphs(for: "Hòa Tiến").map(\.glyph)))
        for _ in 0..<300 {
            guard let mutated = try? TrueTypeFont(bytes: mutate(subset)) else { continue }
            _ = try? mutated.glyphs(for: "Hòa Tiến")
            _ = try? mutated.subset(keeping: [1, 2, 3, 40, 41])
        }
    }

    // MARK: Layout (pure)

    func testLayoutArithmetic() throws {
        // A 300×120 image into a 200×53 area: height-bound, centred across.
        XCTAssertEqual(SignatureAppearance.fit(width: 300, height: 120, in: [300, 127, 200, 53]), [333.75, 127, 132.5, 53])
        // The seal's right edge a third into the image, centred vertically.
        XCTAssertEqual(SignatureAppearance.sealRectangle(signatureImage: [300, 100, 150, 60], sealWidth: 100, sealHeight: 100), [250, 80, 100, 100])
        // The image's box is read back from the appearance stream we write, and only from a plain
        // scale-and-move matrix before the image's own name.
        let ours = Array("q 132.5 0 0 53 33.75 27 cm /Im1 Do Q\nBT 0 g /F1 10 Tf 1 2 Td <0001> Tj ET\n".utf8)
        XCTAssertEqual(SignatureAppearance.imageMatrix(in: ours, names: ["Im1"]), [132.5, 0, 0, 53, 33.75, 27])
        XCTAssertNil(SignatureAppearance.imageMatrix(in: ours, names: ["Im2"]))
        XCTAssertNil(SignatureAppearance.imageMatrix(in: Array("q 0 1 -1 0 50 0 cm /Im1 Do Q".utf8), names: ["Im1"]), "rotated: not read")
    }

    func testEmbeddedFontNamesItsSubsetAndMapsBackToUnicode() throws {
        let font = try libertionSerif()
        let embedded = try EmbeddedFont(font: font, text: ["SAO LỤC", "UBND xã Hòa Tiến"])
        XCTAssertTrue(embedded.baseFont.range(of: "^[A-Z]{6}\\+LiberationSerif$", options: .regularExpression) != nil, embedded.baseFont)
        XCTAssertEqual(try EmbeddedFont(font: font, text: ["UBND xã Hòa Tiến", "SAO LỤC"]).tag, embedded.tag, "the tag follows the glyph set")
        XCTAssertNotEqual(try EmbeddedFont(font: font, text: ["SAO Y"]).tag, embedded.tag)
        let cmap = embedded.toUnicodeCMap()
        let u1EE4 = String(font.glyph(for: "Ụ")!, radix: 16, uppercase: true)
        XCTAssertTrue(cmap.contains("<\(String(repeating: "0", count: 4 - u1EE4.count))\(u1EE4)> <1EE4>"), cmap)
        XCTAssertTrue(cmap.contains("begincodespacerange\n<0000> <FFFF>"))
        XCTAssertEqual(try embedded.hexCodes("SAO").count, 12, "two bytes per glyph")
    }
}
