/// The entries through which both the fuzzer (fuzz/FuzzTrueType.swift, fuzz/FuzzPNG.swift;
/// scripts/fuzz-parsers truetype|png) and the corpus replay test feed bytes to the appearance's
/// font and image readers. The font and the picture of a signature are files a clerk uploads:
/// any byte string must give a value or a thrown error, never a trap.
package enum AppearanceFuzzing {
    /// Reads a font, then does what the appearance does with it: map a name to glyphs, measure
    /// it and subset the font to those glyphs (following composite glyphs). Short texts too, so
    /// that a mutated font which lost most of its characters still reaches the subsetter.
    package static func readFont(_ bytes: [UInt8]) {
        guard let font = try? TrueTypeFont(bytes: bytes) else { return }
        for text in ["Nguyễn Thị Ánh Tuyết, Phó Giám đốc", "Ng", "ễ", "A"] {
            // As the appearance: a text the font cannot show is refused before any subsetting.
            guard let mapped = try? font.glyphs(for: text) else { continue }
            _ = try? font.width(of: text, size: 11)
            if let subset = try? font.subset(keeping: Set(mapped.map(\.glyph) + [0])) {
                // What we embed must read back: the PDF viewer gets nothing better.
                guard (try? TrueTypeFont(bytes: subset)) != nil else { fatalError("a subset of a readable font does not read") }
            }
        }
    }

    /// Reads a PNG with a small pixel budget (the fuzzer should spend its time on structure,
    /// not on inflating large pictures), then the size the appearance asks of it.
    package static func readImage(_ bytes: [UInt8]) {
        guard let image = try? PNGImage(bytes: bytes, maximumPixels: 1 << 16) else { return }
        _ = image.sizeInMillimetres
        guard image.samples.count == image.width * image.height * image.components else {
            fatalError("samples do not fill \(image.width)×\(image.height)×\(image.components)")
        }
        if let alpha = image.alpha, alpha.count != image.width * image.height { fatalError("alpha does not fill the image") }
    }
}
