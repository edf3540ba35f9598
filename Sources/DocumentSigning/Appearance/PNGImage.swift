import Inflate

/// A PNG image (ISO/IEC 15948, W3C PNG 2nd edition) decoded to 8-bit samples, as a PDF image
/// XObject wants them: gray or RGB, and a separate alpha channel (the soft mask). Pure; the
/// caller reads the file. Chunks are CRC-checked; IHDR, PLTE, tRNS, pHYs, IDAT and IEND are read,
/// other ancillary chunks skipped. Colour types 0, 2, 3, 4, 6 at bit depth 8; 16 (reduced to 8:
/// a PDF appearance gains nothing from more); 1, 2 and 4 for gray and palette images (image editors
/// write a seal of few colours that way). Interlaced images are refused with a message saying so.
package struct PNGImage: Sendable, Equatable {
    package enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case notPNG
        case truncated
        case badCRC(chunk: String)
        case malformed(String)
        case unsupported(String)
        case tooLarge(width: Int, height: Int, limit: Int)

        package var description: String {
            switch self {
            case .notPNG: "không phải tệp PNG / not a PNG file"
            case .truncated: "tệp PNG bị cắt cụt / truncated PNG file"
            case .badCRC(let chunk): "tệp PNG hỏng: sai CRC ở khối \(chunk) / corrupt PNG: bad CRC in chunk \(chunk)"
            case .malformed(let reason): "tệp PNG hỏng / malformed PNG: \(reason)"
            case .unsupported(let what): "ảnh PNG chưa hỗ trợ / unsupported PNG: \(what) (hãy lưu lại ảnh ở dạng 8 bit, không xen dòng / save it as 8-bit, non-interlaced)"
            case .tooLarge(let width, let height, let limit):
                "ảnh quá lớn \(width)×\(height) (tối đa \(limit) điểm ảnh) / image too large \(width)×\(height) (at most \(limit) pixels)"
            }
        }
    }

    package let width: Int
    package let height: Int
    /// 1 (gray) or 3 (RGB).
    package let components: Int
    /// Rows top down, `components` bytes per pixel.
    package let samples: [UInt8]
    /// One byte per pixel, or nil when the image is opaque.
    package let alpha: [UInt8]?
    /// pHYs in pixels per metre (x, y) when the unit is the metre; nil otherwise.
    package let pixelsPerMetre: (x: Int, y: Int)?

    package static func == (left: PNGImage, right: PNGImage) -> Bool {
        left.width == right.width && left.height == right.height && left.components == right.components && left.samples == right.samples
            && left.alpha == right.alpha && left.pixelsPerMetre?.x == right.pixelsPerMetre?.x && left.pixelsPerMetre?.y == right.pixelsPerMetre?.y
    }

    /// 25 megapixels: a scanned seal at 600 dpi is far below; a bigger file is a mistake.
    package static let maximumPixels = 25_000_000

    /// The real size in millimetres, from pHYs.
    package var sizeInMillimetres: (width: Double, height: Double)? {
        guard let pixelsPerMetre, pixelsPerMetre.x > 0, pixelsPerMetre.y > 0 else { return nil }
        return (Double(width) * 1000 / Double(pixelsPerMetre.x), Double(height) * 1000 / Double(pixelsPerMetre.y))
    }

    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    package init(bytes: [UInt8], maximumPixels: Int = PNGImage.maximumPixels) throws(Failure) {
        guard bytes.count >= 8 else { throw bytes.starts(with: Self.signature.prefix(bytes.count)) && !bytes.isEmpty ? .truncated : .notPNG }
        guard bytes.starts(with: Self.signature) else { throw .notPNG }
        var at = 8
        var header: (width: Int, height: Int, depth: Int, colourType: Int)?
        var palette: [UInt8] = []
        var transparency: [UInt8]?
        var physical: (x: Int, y: Int)?
        var compressed: [UInt8] = []
        var ended = false
        while !ended {
            guard at + 8 <= bytes.count else { throw .truncated }
            let length = Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
            guard length <= 0x7FFF_FFFF else { throw .malformed("chunk length \(length)") }
            guard at + 12 + length <= bytes.count else { throw .truncated }
            let typeBytes = bytes[(at + 4)..<(at + 8)]
            let type = String(decoding: typeBytes, as: UTF8.self)
            let data = bytes[(at + 8)..<(at + 8 + length)]
            let stored = UInt32(bytes[at + 8 + length]) << 24 | UInt32(bytes[at + 9 + length]) << 16
                | UInt32(bytes[at + 10 + length]) << 8 | UInt32(bytes[at + 11 + length])
            guard CRC32.checksum(bytes[(at + 4)..<(at + 8 + length)]) == stored else { throw .badCRC(chunk: type) }
            at += 12 + length
            if header == nil, type != "IHDR" { throw .malformed("the first chunk is \(type), not IHDR") }
            switch type {
            case "IHDR":
                guard header == nil, length == 13 else { throw .malformed("IHDR") }
                let d = Array(data)
                let width = Int(d[0]) << 24 | Int(d[1]) << 16 | Int(d[2]) << 8 | Int(d[3])
                let height = Int(d[4]) << 24 | Int(d[5]) << 16 | Int(d[6]) << 8 | Int(d[7])
                guard width > 0, height > 0 else { throw .malformed("width or height 0") }
                guard width <= maximumPixels, height <= maximumPixels, width * height <= maximumPixels else {
                    throw .tooLarge(width: width, height: height, limit: maximumPixels)
                }
                let depth = Int(d[8]), colourType = Int(d[9])
                guard [0, 2, 3, 4, 6].contains(colourType) else { throw .malformed("colour type \(colourType)") }
                guard d[10] == 0, d[11] == 0 else { throw .malformed("compression or filter method not 0") }
                guard d[12] == 0 else { throw .unsupported("interlaced (Adam7)") }
                let allowed = [0: [1, 2, 4, 8, 16], 3: [1, 2, 4, 8]][colourType] ?? [8, 16]
                guard allowed.contains(depth) else { throw .malformed("bit depth \(depth) for colour type \(colourType)") }
                header = (width, height, depth, colourType)
            case "PLTE":
                guard length % 3 == 0, length <= 768, length > 0 else { throw .malformed("PLTE of \(length) bytes") }
                palette = Array(data)
            case "tRNS": transparency = Array(data)
            case "pHYs":
                guard length == 9 else { throw .malformed("pHYs") }
                let d = Array(data)
                if d[8] == 1 {
                    physical = (Int(d[0]) << 24 | Int(d[1]) << 16 | Int(d[2]) << 8 | Int(d[3]),
                                Int(d[4]) << 24 | Int(d[5]) << 16 | Int(d[6]) << 8 | Int(d[7]))
                }
            case "IDAT": compressed += data
            case "IEND": ended = true
            default:
                // An unknown critical chunk (upper-case first letter) changes the meaning: refuse.
                if typeBytes.first! & 0x20 == 0 { throw .unsupported("critical chunk \(type)") }
            }
        }
        guard let header else { throw .malformed("no IHDR") }
        let channels = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][header.colourType]!
        // Filters work on bytes: a pixel of less than a byte counts as one (PNG spec §9.2).
        let bytesPerPixel = max(1, channels * header.depth / 8)
        let rowBytes = (header.width * channels * header.depth + 7) / 8
        let expected = header.height * (rowBytes + 1)
        let raw: [UInt8]
        do {
            raw = try Inflater.inflate(compressed, format: .zlib, limit: expected)
        } catch .tooLarge {
            throw .malformed("more image data than \(header.width)×\(header.height) needs")
        } catch .truncated {
            throw .truncated
        } catch {
            throw .malformed("image data does not inflate (\(error))")
        }
        guard raw.count == expected else { throw .malformed("image data is \(raw.count) bytes, \(expected) expected") }
        var pixels = try Self.unfilter(raw, rowBytes: rowBytes, bytesPerPixel: bytesPerPixel, height: header.height)
        if header.depth < 8 {
            // One byte per sample; gray scaled to 0…255 (and its tRNS key with it), palette indices kept.
            let scale = header.colourType == 0 ? 255 / ((1 << header.depth) - 1) : 1
            pixels = Self.unpack(pixels, rowBytes: rowBytes, width: header.width, height: header.height, depth: header.depth, scale: scale)
            if header.colourType == 0, let key = transparency, key.count >= 2 {
                let value = (Int(key[0]) << 8 | Int(key[1])) * scale
                transparency = [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
            }
        }
        let depth = max(8, header.depth)

        // Down to 8 bits per sample (the high byte) and split into colour and alpha.
        let sampleBytes = depth / 8
        let count = header.width * header.height
        var colour: [UInt8] = []
        var alpha: [UInt8] = []
        func sample(_ pixel: Int, _ channel: Int) -> UInt8 { pixels[(pixel * channels + channel) * sampleBytes] }
        func sample16(_ pixel: Int, _ channel: Int) -> Int {
            let at = (pixel * channels + channel) * sampleBytes
            return sampleBytes == 2 ? Int(pixels[at]) << 8 | Int(pixels[at + 1]) : Int(pixels[at])
        }
        switch header.colourType {
        case 0, 2:
            let colourChannels = channels
            colour.reserveCapacity(count * colourChannels)
            for pixel in 0..<count { for channel in 0..<colourChannels { colour.append(sample(pixel, channel)) } }
            // tRNS for gray or RGB: one colour (at the image's depth) is fully transparent.
            if let transparency, transparency.count >= 2 * colourChannels {
                let key = (0..<colourChannels).map { Int(transparency[2 * $0]) << 8 | Int(transparency[2 * $0 + 1]) }
                alpha = (0..<count).map { pixel in (0..<colourChannels).allSatisfy { sample16(pixel, $0) == key[$0] } ? 0 : 255 }
            }
        case 3:
            guard !palette.isEmpty else { throw .malformed("palette image without PLTE") }
            let entries = palette.count / 3
            colour.reserveCapacity(count * 3)
            for pixel in 0..<count {
                let index = Int(pixels[pixel])
                guard index < entries else { throw .malformed("palette index \(index) of \(entries)") }
                colour += palette[(3 * index)..<(3 * index + 3)]
            }
            if let transparency {
                alpha = (0..<count).map { pixel in
                    let index = Int(pixels[pixel])
                    return index < transparency.count ? transparency[index] : 255
                }
            }
        default:  // 4 gray + alpha, 6 RGB + alpha
            let colourChannels = channels - 1
            colour.reserveCapacity(count * colourChannels)
            alpha.reserveCapacity(count)
            for pixel in 0..<count {
                for channel in 0..<colourChannels { colour.append(sample(pixel, channel)) }
                alpha.append(sample(pixel, colourChannels))
            }
        }
        width = header.width
        height = header.height
        components = header.colourType == 0 || header.colourType == 4 ? 1 : 3
        samples = colour
        // An alpha channel that is opaque everywhere needs no soft mask.
        self.alpha = alpha.isEmpty || alpha.allSatisfy({ $0 == 255 }) ? nil : alpha
        pixelsPerMetre = physical
    }

    /// Samples of 1, 2 or 4 bits (rows start on a byte) to one byte each, times `scale`.
    static func unpack(_ packed: [UInt8], rowBytes: Int, width: Int, height: Int, depth: Int, scale: Int) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(width * height)
        let perByte = 8 / depth, mask = (1 << depth) - 1
        for row in 0..<height {
            for x in 0..<width {
                let byte = Int(packed[row * rowBytes + x / perByte])
                let shift = 8 - depth * (x % perByte + 1)
                output.append(UInt8((byte >> shift & mask) * scale))
            }
        }
        return output
    }

    /// PNG filter types 0–4 reversed, row by row (PNG spec §9.2); the filter byte removed.
    static func unfilter(_ raw: [UInt8], rowBytes: Int, bytesPerPixel: Int, height: Int) throws(Failure) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: rowBytes * height)
        for row in 0..<height {
            let filter = raw[row * (rowBytes + 1)]
            let input = row * (rowBytes + 1) + 1, out = row * rowBytes, previous = out - rowBytes
            for index in 0..<rowBytes {
                let x = raw[input + index]
                let a = index >= bytesPerPixel ? Int(output[out + index - bytesPerPixel]) : 0
                let b = row > 0 ? Int(output[previous + index]) : 0
                let c = row > 0 && index >= bytesPerPixel ? Int(output[previous + index - bytesPerPixel]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: throw .malformed("filter type \(filter) in row \(row)")
                }
                output[out + index] = x &+ UInt8(truncatingIfNeeded: predictor)
            }
        }
        return output
    }
}
