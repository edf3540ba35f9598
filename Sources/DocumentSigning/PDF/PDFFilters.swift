import Inflate

/// The stream filters the reader needs for its own structures (cross-reference streams and object
/// streams): FlateDecode with the PNG and TIFF predictors (ISO 32000-1 §7.4.4). Content streams and
/// images are never decoded: signing does not need them. Output is capped, so a small stream that
/// inflates to gigabytes (a "zip bomb") is refused instead of filling memory.
enum PDFFilters {
    /// Applies the stream's /Filter chain (with /DecodeParms) to `raw`.
    static func decode(_ raw: [UInt8], dictionary: PDFDictionary, limit: Int, objectNumber: Int?) throws -> [UInt8] {
        var filters: [PDFName] = []
        var parameters: [PDFDictionary?] = []
        switch dictionary["Filter"] {
        case nil, .null?: return raw
        case .name(let name)?:
            filters = [name]
            parameters = [dictionary["DecodeParms"]?.dictionaryValue]
        case .array(let names)?:
            filters = try names.map {
                guard let name = $0.nameValue else { throw PDFError.badStream(number: objectNumber, reason: "a /Filter entry that is not a name") }
                return name
            }
            let given = dictionary["DecodeParms"]?.arrayValue ?? []
            parameters = filters.indices.map { $0 < given.count ? given[$0].dictionaryValue : nil }
        default:
            throw PDFError.badStream(number: objectNumber, reason: "a /Filter that is neither a name nor an array")
        }
        var data = raw
        for (filter, parameter) in zip(filters, parameters) {
            switch filter {
            case "FlateDecode", "Fl":
                data = try inflate(data, limit: limit, objectNumber: objectNumber)
                if let parameter { data = try unpredict(data, parameters: parameter, objectNumber: objectNumber) }
            default:
                throw PDFError.unsupported("filter \(filter) on object \(objectNumber.map(String.init) ?? "?")")
            }
        }
        return data
    }

    /// zlib inflate (RFC 1950) with a ceiling. A stream whose end is missing (no Adler-32, seen in
    /// the wild) gives what it holds, as other readers do; one with corrupt data is an error.
    static func inflate(_ input: [UInt8], limit: Int, objectNumber: Int?) throws -> [UInt8] {
        guard !input.isEmpty else { return [] }
        do {
            return try Inflater.inflate(input, format: .zlib, limit: limit)
        } catch .truncated(let partial) {
            return partial
        } catch .tooLarge {
            throw PDFError.limitExceeded("a stream (object \(objectNumber.map(String.init) ?? "?")) inflates past \(limit) bytes")
        } catch .corrupt(let reason) {
            throw PDFError.badStream(number: objectNumber, reason: reason)
        }
    }

    /// Undoes a /Predictor: 2 (TIFF) or 10–15 (PNG, a filter-type byte before each row).
    static func unpredict(_ data: [UInt8], parameters: PDFDictionary, objectNumber: Int?) throws -> [UInt8] {
        let predictor = parameters["Predictor"]?.integerValue ?? 1
        guard predictor > 1 else { return data }
        let colors = parameters["Colors"]?.integerValue ?? 1
        let bitsPerComponent = parameters["BitsPerComponent"]?.integerValue ?? 8
        let columns = parameters["Columns"]?.integerValue ?? 1
        guard (1...32).contains(colors), [1, 2, 4, 8, 16].contains(bitsPerComponent), (1...1_000_000).contains(columns) else {
            throw PDFError.badStream(number: objectNumber, reason: "predictor parameters out of range")
        }
        let bytesPerPixel = max(1, (colors * bitsPerComponent + 7) / 8)
        let rowLength = (colors * bitsPerComponent * columns + 7) / 8
        if predictor == 2 {
            guard bitsPerComponent == 8 else { throw PDFError.unsupported("TIFF predictor with \(bitsPerComponent) bits per component") }
            var result = data
            var rowStart = 0
            while rowStart < result.count {
                let rowEnd = min(result.count, rowStart + rowLength)
                var index = rowStart + bytesPerPixel
                while index < rowEnd {
                    result[index] = result[index] &+ result[index - bytesPerPixel]
                    index += 1
                }
                rowStart += rowLength
            }
            return result
        }
        guard (10...15).contains(predictor) else { throw PDFError.unsupported("predictor \(predictor)") }
        var result: [UInt8] = []
        result.reserveCapacity(data.count / (rowLength + 1) * rowLength)
        var previous = [UInt8](repeating: 0, count: rowLength)
        var row = [UInt8](repeating: 0, count: rowLength)
        var offset = 0
        while offset < data.count {
            let type = data[offset]
            let available = min(rowLength, data.count - offset - 1)
            // A short last row is padded with zeros, as readers do.
            for index in 0..<rowLength { row[index] = index < available ? data[offset + 1 + index] : 0 }
            offset += 1 + rowLength
            for index in 0..<rowLength {
                let left: UInt8 = index >= bytesPerPixel ? row[index - bytesPerPixel] : 0
                let up = previous[index]
                let upLeft: UInt8 = index >= bytesPerPixel ? previous[index - bytesPerPixel] : 0
                switch type {
                case 0: break
                case 1: row[index] = row[index] &+ left
                case 2: row[index] = row[index] &+ up
                case 3: row[index] = row[index] &+ UInt8((Int(left) + Int(up)) / 2)
                case 4:
                    let estimate = Int(left) + Int(up) - Int(upLeft)
                    let distanceLeft = abs(estimate - Int(left)), distanceUp = abs(estimate - Int(up)), distanceUpLeft = abs(estimate - Int(upLeft))
                    let paeth = distanceLeft <= distanceUp && distanceLeft <= distanceUpLeft ? left : (distanceUp <= distanceUpLeft ? up : upLeft)
                    row[index] = row[index] &+ paeth
                default:
                    throw PDFError.badStream(number: objectNumber, reason: "PNG row filter type \(type)")
                }
            }
            result += row
            swap(&previous, &row)
        }
        return result
    }
}
