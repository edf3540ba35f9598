import Foundation

/// A TrueType font read from its bytes (Apple TrueType Reference / OpenType 1.9 "glyf" flavour),
/// as much as embedding a subset in a PDF needs: the character map, advance widths, metrics for
/// the font descriptor, and the glyph outlines to keep. Pure; the caller reads the file.
///
/// The subset keeps glyph ids (so the PDF's CIDToGIDMap is /Identity and the text's two-byte codes
/// are glyph ids): the glyphs not used are emptied in `glyf`/`loca`, the tables a PDF reader does
/// not need are dropped, `post` is cut to format 3, checksums and `checkSumAdjustment` recomputed.
package struct TrueTypeFont: Sendable {
    package enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case malformed(String)
        /// A character of the text has no glyph in the font.
        case missingGlyph(Character, font: String)

        package var description: String {
            switch self {
            case .malformed(let reason): "tệp phông chữ hỏng / malformed TrueType font: \(reason)"
            case .missingGlyph(let character, let font):
                "phông \(font) không có ký tự “\(character)” (U+\(character.unicodeScalars.map { String($0.value, radix: 16, uppercase: true) }.joined(separator: " U+"))) / "
                    + "the font \(font) has no glyph for “\(character)”"
            }
        }
    }

    struct Table { let offset: Int; let length: Int }

    let bytes: [UInt8]
    let tables: [String: Table]
    package let glyphCount: Int
    package let unitsPerEm: Int
    /// The PostScript name (name ID 6), e.g. `LiberationSerif`.
    package let postScriptName: String
    /// Font bounding box in font units: xMin, yMin, xMax, yMax.
    package let boundingBox: [Int]
    package let ascent: Int
    package let descent: Int
    package let capHeight: Int
    package let italicAngle: Double
    package let isFixedPitch: Bool
    let longLoca: Bool
    let advanceWidths: [Int]
    let characterMap: [UInt32: Int]

    /// Fonts bigger than this are refused: the file is read whole (Liberation Serif is 400 KB).
    package static let maximumSize = 32 << 20

    package init(bytes: [UInt8]) throws(Failure) {
        guard bytes.count <= Self.maximumSize else { throw .malformed("larger than \(Self.maximumSize) bytes") }
        self.bytes = bytes
        let reader = Reader(bytes)
        let version = try reader.u32(at: 0)
        guard version == 0x0001_0000 || version == 0x7472_7565 else {
            throw .malformed(version == 0x4F54_544F ? "CFF outlines (OTTO), not TrueType" : "not a TrueType font (version \(String(version, radix: 16)))")
        }
        let tableCount = try reader.u16(at: 4)
        var tables: [String: Table] = [:]
        for index in 0..<tableCount {
            let record = 12 + 16 * index
            let tag = String(decoding: try reader.slice(record, 4), as: UTF8.self)
            let offset = try reader.u32(at: record + 8), length = try reader.u32(at: record + 12)
            guard offset + length <= bytes.count else { throw .malformed("table \(tag) runs past the end of the file") }
            tables[tag] = Table(offset: offset, length: length)
        }
        for required in ["head", "hhea", "hmtx", "maxp", "loca", "glyf", "cmap"] where tables[required] == nil {
            throw .malformed("no \(required) table")
        }
        // The fixed fields read below must lie inside their own table: read past its end, they
        // are another table's bytes, which the subset (tables copied by their lengths) loses.
        for (tag, minimum) in [("head", 54), ("hhea", 36), ("maxp", 6)] where tables[tag]!.length < minimum {
            throw .malformed("\(tag) table shorter than \(minimum) bytes")
        }
        self.tables = tables
        let head = tables["head"]!.offset, hhea = tables["hhea"]!.offset
        unitsPerEm = try reader.u16(at: head + 18)
        guard unitsPerEm > 0 else { throw .malformed("unitsPerEm is 0") }
        boundingBox = [try reader.s16(at: head + 36), try reader.s16(at: head + 38), try reader.s16(at: head + 40), try reader.s16(at: head + 42)]
        longLoca = try reader.s16(at: head + 50) == 1
        glyphCount = try reader.u16(at: tables["maxp"]!.offset + 4)
        guard glyphCount > 0 else { throw .malformed("no glyphs") }
        let expectedLoca = (glyphCount + 1) * (longLoca ? 4 : 2)
        guard tables["loca"]!.length >= expectedLoca else { throw .malformed("loca shorter than numGlyphs + 1 entries") }

        // hmtx: numberOfHMetrics pairs, then left side bearings only (the last advance repeats).
        let metricCount = try reader.u16(at: hhea + 34)
        guard metricCount >= 1, metricCount <= glyphCount, tables["hmtx"]!.length >= metricCount * 4 else {
            throw .malformed("numberOfHMetrics \(metricCount)")
        }
        var widths: [Int] = []
        widths.reserveCapacity(glyphCount)
        for glyph in 0..<glyphCount {
            widths.append(try reader.u16(at: tables["hmtx"]!.offset + 4 * min(glyph, metricCount - 1)))
        }
        advanceWidths = widths

        if let os2 = tables["OS/2"], os2.length >= 78 {
            ascent = try reader.s16(at: os2.offset + 68)
            descent = try reader.s16(at: os2.offset + 70)
            capHeight = os2.length >= 90 ? try reader.s16(at: os2.offset + 88) : ascent
        } else {
            ascent = try reader.s16(at: hhea + 4)
            descent = try reader.s16(at: hhea + 6)
            capHeight = ascent
        }
        if let post = tables["post"], post.length >= 16 {
            italicAngle = Double(Int32(bitPattern: UInt32(try reader.u32(at: post.offset + 4)))) / 65536
            isFixedPitch = try reader.u32(at: post.offset + 12) != 0
        } else {
            italicAngle = 0
            isFixedPitch = false
        }
        // cmap and name are read within their own bytes: past a table's end lies another table's
        // data, which the subset (tables copied by their lengths) does not keep.
        func alone(_ table: Table) throws(Failure) -> (Reader, Table) {
            (Reader(try reader.slice(table.offset, table.length)), Table(offset: 0, length: table.length))
        }
        let cmap = try alone(tables["cmap"]!)
        characterMap = try Self.readCharacterMap(cmap.0, table: cmap.1, glyphCount: glyphCount)
        let name = try? tables["name"].map(alone)
        postScriptName = (try? Self.readPostScriptName(name?.0 ?? reader, table: name?.1)) ?? "TrueTypeFont"
    }

    /// The glyph for one Unicode scalar, nil when the font has none.
    package func glyph(for scalar: Unicode.Scalar) -> Int? { characterMap[scalar.value] }

    /// Advance width in 1/1000 of the text size (PDF glyph space).
    package func width(ofGlyph glyph: Int) -> Double {
        Double(advanceWidths[min(glyph, advanceWidths.count - 1)]) * 1000 / Double(unitsPerEm)
    }

    /// The text's glyphs, after NFC normalisation (Vietnamese typed with combining marks maps to
    /// the font's precomposed glyphs, e.g. U+1EA1 ạ). Each glyph with the scalars it stands for
    /// (for the ToUnicode map). A character the font lacks is an error naming it.
    package func glyphs(for text: String) throws(Failure) -> [(glyph: Int, text: String)] {
        var result: [(Int, String)] = []
        for character in text.precomposedStringWithCanonicalMapping {
            var glyphs: [Int] = []
            for scalar in character.unicodeScalars {
                guard let glyph = glyph(for: scalar) else { throw .missingGlyph(character, font: postScriptName) }
                glyphs.append(glyph)
            }
            // A character of several scalars (a letter with a mark NFC cannot join) maps to
            // several glyphs; the first carries the text, the others none.
            for (index, glyph) in glyphs.enumerated() { result.append((glyph, index == 0 ? String(character) : "")) }
        }
        return result
    }

    /// Width of `text` at `size` points.
    package func width(of text: String, size: Double) throws(Failure) -> Double {
        try glyphs(for: text).reduce(0) { $0 + width(ofGlyph: $1.glyph) } * size / 1000
    }

    // MARK: Subset

    /// The font file with only `glyphs` (plus .notdef and the components of composite glyphs)
    /// keeping their outlines; glyph ids are unchanged.
    package func subset(keeping glyphs: Set<Int>) throws(Failure) -> [UInt8] {
        let reader = Reader(bytes)
        let kept = try closure(of: glyphs.union([0]), reader: reader)
        let locaOffset = tables["loca"]!.offset, glyfTable = tables["glyf"]!
        func location(_ glyph: Int) throws(Failure) -> Int {
            longLoca ? try reader.u32(at: locaOffset + 4 * glyph) : 2 * (try reader.u16(at: locaOffset + 2 * glyph))
        }
        var glyf: [UInt8] = []
        var loca: [UInt8] = []
        for glyph in 0..<glyphCount {
            Self.append32(&loca, glyf.count)
            guard kept.contains(glyph) else { continue }
            let start = try location(glyph), end = try location(glyph + 1)
            guard start <= end, end <= glyfTable.length else { throw .malformed("loca entry of glyph \(glyph) outside glyf") }
            glyf += bytes[(glyfTable.offset + start)..<(glyfTable.offset + end)]
            // Glyph data 4-byte aligned, as long loca allows any offset but rasterisers like it.
            while glyf.count % 4 != 0 { glyf.append(0) }
        }
        Self.append32(&loca, glyf.count)

        var head = try reader.slice(tables["head"]!.offset, tables["head"]!.length)
        guard head.count >= 54 else { throw .malformed("head table too short") }
        head[8..<12] = [0, 0, 0, 0]  // checkSumAdjustment, set below
        head[50] = 0; head[51] = 1  // indexToLocFormat: long offsets
        var post: [UInt8] = []
        if let table = tables["post"], table.length >= 32 {
            // Format 3: no glyph names (a PDF reader never needs them).
            post = try reader.slice(table.offset, 32)
            post[0..<4] = [0, 3, 0, 0]
        }

        var output: [(String, [UInt8])] = [("head", head), ("loca", loca), ("glyf", glyf)]
        // What a PDF reader needs of an embedded TrueType font (ISO 32000-1 §9.9: head, hhea,
        // loca, maxp, cvt, prep, glyf, hmtx, fpgm), and cmap, OS/2 and name which some readers
        // consult; GSUB/GPOS/kern and the rest are layout data a PDF's positioned text never uses.
        for tag in ["hhea", "hmtx", "maxp", "cvt ", "fpgm", "prep", "cmap", "OS/2", "name"] {
            if let table = tables[tag] { output.append((tag, try reader.slice(table.offset, table.length))) }
        }
        if !post.isEmpty { output.append(("post", post)) }
        return Self.assemble(output)
    }

    /// `glyphs` and every glyph their composites use, recursively.
    func closure(of glyphs: Set<Int>, reader: Reader) throws(Failure) -> Set<Int> {
        var kept: Set<Int> = []
        var pending = Array(glyphs)
        let locaOffset = tables["loca"]!.offset, glyf = tables["glyf"]!
        while let glyph = pending.popLast() {
            guard glyph >= 0, glyph < glyphCount else { throw .malformed("glyph \(glyph) out of range") }
            guard kept.insert(glyph).inserted else { continue }
            let start = longLoca ? try reader.u32(at: locaOffset + 4 * glyph) : 2 * (try reader.u16(at: locaOffset + 2 * glyph))
            let end = longLoca ? try reader.u32(at: locaOffset + 4 * glyph + 4) : 2 * (try reader.u16(at: locaOffset + 2 * glyph + 2))
            guard end > start, end <= glyf.length else { continue }  // empty glyph (a space)
            var at = glyf.offset + start
            guard try reader.s16(at: at) < 0 else { continue }  // simple glyph
            at += 10
            // Composite glyph: components until MORE_COMPONENTS is clear (glyf spec, flags).
            while true {
                let flags = try reader.u16(at: at)
                pending.append(try reader.u16(at: at + 2))
                at += 4 + (flags & 0x0001 != 0 ? 4 : 2)  // ARG_1_AND_2_ARE_WORDS
                if flags & 0x0008 != 0 { at += 2 }  // WE_HAVE_A_SCALE
                else if flags & 0x0040 != 0 { at += 4 }  // WE_HAVE_AN_X_AND_Y_SCALE
                else if flags & 0x0080 != 0 { at += 8 }  // WE_HAVE_A_TWO_BY_TWO
                guard flags & 0x0020 != 0 else { break }  // MORE_COMPONENTS
                guard at < glyf.offset + end else { throw .malformed("composite glyph \(glyph) runs past its end") }
            }
        }
        return kept
    }

    /// A font file from its tables: directory sorted by tag, tables 4-byte aligned, each
    /// checksum, and head's checkSumAdjustment = 0xB1B0AFBA − the whole file's checksum.
    static func assemble(_ tables: [(String, [UInt8])]) -> [UInt8] {
        let sorted = tables.sorted { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }
        var power = 1, log = 0
        while power * 2 <= sorted.count { power *= 2; log += 1 }
        var file: [UInt8] = []
        append32(&file, 0x0001_0000)
        append16(&file, sorted.count)
        append16(&file, power * 16)
        append16(&file, log)
        append16(&file, sorted.count * 16 - power * 16)
        var offset = 12 + 16 * sorted.count
        var headOffset = 0
        for (tag, data) in sorted {
            file += Array(tag.utf8)
            append32(&file, Int(checksum(data)))
            append32(&file, offset)
            append32(&file, data.count)
            if tag == "head" { headOffset = offset }
            offset += (data.count + 3) & ~3
        }
        for (_, data) in sorted {
            file += data
            while file.count % 4 != 0 { file.append(0) }
        }
        let adjustment = 0xB1B0_AFBA &- checksum(file)
        file[headOffset + 8] = UInt8(adjustment >> 24)
        file[headOffset + 9] = UInt8(adjustment >> 16 & 0xFF)
        file[headOffset + 10] = UInt8(adjustment >> 8 & 0xFF)
        file[headOffset + 11] = UInt8(adjustment & 0xFF)
        return file
    }

    /// The sum of big-endian 32-bit words, the last one zero-padded.
    static func checksum(_ data: [UInt8]) -> UInt32 {
        var sum: UInt32 = 0
        var index = 0
        while index < data.count {
            var word: UInt32 = 0
            for byte in 0..<4 { word = word << 8 | UInt32(index + byte < data.count ? data[index + byte] : 0) }
            sum &+= word
            index += 4
        }
        return sum
    }

    static func append16(_ bytes: inout [UInt8], _ value: Int) { bytes += [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
    static func append32(_ bytes: inout [UInt8], _ value: Int) {
        bytes += [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    // MARK: Tables

    /// Unicode → glyph from the best subtable: (3,10) or (0,4+) format 12, else (3,1) or (0,3)
    /// format 4.
    static func readCharacterMap(_ reader: Reader, table: Table, glyphCount: Int) throws(Failure) -> [UInt32: Int] {
        let base = table.offset
        let count = try reader.u16(at: base + 2)
        var format4: Int?, format12: Int?
        for index in 0..<count {
            let platform = try reader.u16(at: base + 4 + 8 * index), encoding = try reader.u16(at: base + 6 + 8 * index)
            let offset = base + (try reader.u32(at: base + 8 + 8 * index))
            let format = try reader.u16(at: offset)
            let unicode = platform == 0 || (platform == 3 && (encoding == 1 || encoding == 10))
            guard unicode else { continue }
            if format == 12 { format12 = format12 ?? offset }
            if format == 4 { format4 = format4 ?? offset }
        }
        var map: [UInt32: Int] = [:]
        if let at = format12 {
            let groups = try reader.u32(at: at + 12)
            guard groups <= 1_000_000 else { throw .malformed("cmap format 12 with \(groups) groups") }
            // Groups may overlap; a real font maps each code point once, so more is a hostile file.
            var codes = 0
            for group in 0..<groups {
                let record = at + 16 + 12 * group
                let first = try reader.u32(at: record), last = try reader.u32(at: record + 4), glyph = try reader.u32(at: record + 8)
                codes += last - first + 1
                guard first <= last, last <= 0x10FFFF, codes <= 0x110000 else { throw .malformed("cmap group \(first)…\(last)") }
                for code in first...last where glyph + (code - first) < glyphCount { map[UInt32(code)] = glyph + (code - first) }
            }
            return map
        }
        guard let at = format4 else { throw .malformed("no Unicode cmap subtable of format 4 or 12") }
        let segments = try reader.u16(at: at + 6) / 2
        let ends = at + 14, starts = ends + 2 * segments + 2, deltas = starts + 2 * segments, rangeOffsets = deltas + 2 * segments
        for segment in 0..<segments {
            let end = try reader.u16(at: ends + 2 * segment), start = try reader.u16(at: starts + 2 * segment)
            let delta = try reader.u16(at: deltas + 2 * segment), rangeOffset = try reader.u16(at: rangeOffsets + 2 * segment)
            guard start <= end, start != 0xFFFF else { continue }
            for code in start...end {
                var glyph: Int
                if rangeOffset == 0 {
                    glyph = (code + delta) & 0xFFFF
                } else {
                    // idRangeOffset counts from its own position in the array (cmap spec, format 4).
                    glyph = try reader.u16(at: rangeOffsets + 2 * segment + rangeOffset + 2 * (code - start))
                    if glyph != 0 { glyph = (glyph + delta) & 0xFFFF }
                }
                if glyph != 0, glyph < glyphCount { map[UInt32(code)] = glyph }
            }
        }
        return map
    }

    /// Name ID 6 from a Windows Unicode (UTF-16BE) or Macintosh Roman record.
    static func readPostScriptName(_ reader: Reader, table: Table?) throws(Failure) -> String? {
        guard let table else { return nil }
        let count = try reader.u16(at: table.offset + 2), strings = table.offset + (try reader.u16(at: table.offset + 4))
        for index in 0..<count {
            let record = table.offset + 6 + 12 * index
            let platform = try reader.u16(at: record), nameID = try reader.u16(at: record + 6)
            guard nameID == 6 else { continue }
            let data = try reader.slice(strings + (try reader.u16(at: record + 10)), try reader.u16(at: record + 8))
            if platform == 3 || platform == 0 {
                let units = stride(from: 0, to: data.count - 1, by: 2).map { UInt16(data[$0]) << 8 | UInt16(data[$0 + 1]) }
                return String(decoding: units, as: UTF16.self)
            }
            if platform == 1 { return String(decoding: data, as: UTF8.self) }
        }
        return nil
    }

    /// Big-endian reads that fail instead of trapping past the end.
    struct Reader {
        let bytes: [UInt8]
        init(_ bytes: [UInt8]) { self.bytes = bytes }

        func u16(at offset: Int) throws(Failure) -> Int {
            guard offset >= 0, offset + 2 <= bytes.count else { throw .malformed("read past the end at \(offset)") }
            return Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
        }
        func s16(at offset: Int) throws(Failure) -> Int { Int(Int16(bitPattern: UInt16(try u16(at: offset)))) }
        func u32(at offset: Int) throws(Failure) -> Int { try u16(at: offset) << 16 | (try u16(at: offset + 2)) }
        func slice(_ offset: Int, _ count: Int) throws(Failure) -> [UInt8] {
            guard offset >= 0, count >= 0, offset + count <= bytes.count else { throw .malformed("read past the end at \(offset)") }
            return Array(bytes[offset..<(offset + count)])
        }
    }
}
