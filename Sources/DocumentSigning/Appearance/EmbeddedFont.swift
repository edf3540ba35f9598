import Foundation
import Inflate

/// A TrueType subset embedded as a composite font (ISO 32000-1 §9.7): Type0 with
/// /Encoding /Identity-H over a CIDFontType2 whose CIDs are the glyph ids (/CIDToGIDMap
/// /Identity), /W widths for the glyphs used, a FontDescriptor with the subset in /FontFile2
/// (FlateDecode), and a ToUnicode CMap so the text copies out as Unicode (§9.10.3). The subset
/// tag (§9.6.4) is six capital letters derived from the glyph set, so the same text gives the same
/// name.
struct EmbeddedFont {
    let font: TrueTypeFont
    /// Glyph → the text it stands for (one character; "" for a glyph that only adds to one).
    let unicode: [Int: String]
    let tag: String

    init(font: TrueTypeFont, text: [String]) throws(TrueTypeFont.Failure) {
        self.font = font
        var unicode: [Int: String] = [:]
        for line in text {
            for (glyph, characters) in try font.glyphs(for: line) where unicode[glyph] == nil || unicode[glyph] == "" {
                unicode[glyph] = characters
            }
        }
        self.unicode = unicode
        // FNV-1a over the sorted glyph ids, spelled in A–Z.
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for glyph in unicode.keys.sorted() {
            hash = (hash ^ UInt64(glyph)) &* 0x0000_0100_0000_01B3
        }
        var letters = ""
        for _ in 0..<6 {
            letters.append(Character(Unicode.Scalar(UInt8(ascii: "A") + UInt8(hash % 26))))
            hash /= 26
        }
        tag = letters
    }

    var baseFont: String { "\(tag)+\(font.postScriptName)" }

    /// The line as two-byte glyph ids in hex, for a `Tj`.
    func hexCodes(_ line: String) throws(TrueTypeFont.Failure) -> String {
        try font.glyphs(for: line).map { hex4($0.glyph) }.joined()
    }

    func hex4(_ value: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// The Type0 font under `reference`, and the objects it refers to.
    func objects(reference: PDFReference, allocate: () -> PDFReference) throws -> [(PDFReference, [UInt8])] {
        let cidFont = allocate(), descriptor = allocate(), file = allocate(), toUnicode = allocate()
        let glyphs = unicode.keys.sorted()
        let subset: [UInt8]
        do { subset = try font.subset(keeping: Set(glyphs)) } catch { throw SignatureAppearance.Failure.font(error) }
        let compressed: [UInt8]
        do { compressed = try Deflater.deflate(subset) } catch { throw SignatureAppearance.Failure.image(error.description) }

        // /W: `gid [width]` per glyph used; the rest fall to /DW (their outlines are gone anyway).
        var widths: [PDFObject] = []
        for glyph in glyphs { widths += [.integer(glyph), .array([PDFSignatureUpdate.number(font.width(ofGlyph: glyph).rounded())])] }
        let scale = 1000 / Double(font.unitsPerEm)
        func scaled(_ value: Int) -> PDFObject { PDFSignatureUpdate.number((Double(value) * scale).rounded()) }
        let name = PDFObject.name(PDFName(baseFont))
        // Flags (§9.8.2): Nonsymbolic (the Latin character set), FixedPitch when the font is.
        let flags = 32 | (font.isFixedPitch ? 1 : 0)
        return [
            (reference, PDFSerializer.bytes(.dictionary(PDFDictionary([
                ("Type", .name("Font")), ("Subtype", .name("Type0")), ("BaseFont", name), ("Encoding", .name("Identity-H")),
                ("DescendantFonts", .array([.reference(cidFont)])), ("ToUnicode", .reference(toUnicode)),
            ])))),
            (cidFont, PDFSerializer.bytes(.dictionary(PDFDictionary([
                ("Type", .name("Font")), ("Subtype", .name("CIDFontType2")), ("BaseFont", name),
                ("CIDSystemInfo", .dictionary(PDFDictionary([
                    ("Registry", .string(Array("Adobe".utf8), hex: false)), ("Ordering", .string(Array("Identity".utf8), hex: false)),
                    ("Supplement", .integer(0)),
                ]))),
                ("FontDescriptor", .reference(descriptor)), ("DW", .integer(1000)), ("W", .array(widths)), ("CIDToGIDMap", .name("Identity")),
            ])))),
            (descriptor, PDFSerializer.bytes(.dictionary(PDFDictionary([
                ("Type", .name("FontDescriptor")), ("FontName", name), ("Flags", .integer(flags)),
                ("FontBBox", .array(font.boundingBox.map(scaled))), ("ItalicAngle", PDFSignatureUpdate.number(font.italicAngle)),
                ("Ascent", scaled(font.ascent)), ("Descent", scaled(font.descent)), ("CapHeight", scaled(font.capHeight)),
                // StemV is required but not in the font; 80 is the usual stand-in for a regular weight.
                ("StemV", .integer(80)), ("FontFile2", .reference(file)),
            ])))),
            (file, SignatureAppearance.streamObject(PDFDictionary([("Length1", .integer(subset.count)), ("Filter", .name("FlateDecode"))]),
                                                    data: compressed)),
            (toUnicode, SignatureAppearance.streamObject(PDFDictionary(), data: Array(toUnicodeCMap().utf8))),
        ]
    }

    /// A ToUnicode CMap (Adobe technical note #5411): two-byte codes, one bfchar per glyph used.
    func toUnicodeCMap() -> String {
        var text = """
            /CIDInit /ProcSet findresource begin
            12 dict begin
            begincmap
            /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
            /CMapName /Adobe-Identity-UCS def
            /CMapType 2 def
            1 begincodespacerange
            <0000> <FFFF>
            endcodespacerange

            """
        let entries = unicode.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }
        // At most 100 entries per bfchar block (the CMap format's limit).
        for start in stride(from: 0, to: entries.count, by: 100) {
            let block = entries[start..<min(start + 100, entries.count)]
            text += "\(block.count) beginbfchar\n"
            for (glyph, characters) in block {
                text += "<\(hex4(glyph))> <\(characters.utf16.map { hex4(Int($0)) }.joined())>\n"
            }
            text += "endbfchar\n"
        }
        text += "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
        return text
    }
}
