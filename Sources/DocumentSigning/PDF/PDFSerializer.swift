/// Writes PDF objects as bytes (ISO 32000-1 §7.3), for the objects of an incremental update.
/// Names are escaped with `#xx` where the grammar requires, literal strings escape their
/// parentheses and backslashes, reals are written as they were read.
enum PDFSerializer {
    static func bytes(_ object: PDFObject) -> [UInt8] {
        var output: [UInt8] = []
        write(object, to: &output)
        return output
    }

    static func write(_ object: PDFObject, to output: inout [UInt8]) {
        switch object {
        case .null: output += "null".utf8
        case .boolean(let value): output += (value ? "true" : "false").utf8
        case .integer(let value): output += String(value).utf8
        case .real(let text): output += text.utf8
        case .string(let bytes, let hex):
            if hex {
                output.append(UInt8(ascii: "<"))
                for byte in bytes { output += hexDigits(byte) }
                output.append(UInt8(ascii: ">"))
            } else {
                output.append(UInt8(ascii: "("))
                for byte in bytes {
                    switch byte {
                    case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\\"): output += [UInt8(ascii: "\\"), byte]
                    // A bare CR would be read back as LF (§7.3.4.2).
                    case 0x0D: output += "\\r".utf8
                    default: output.append(byte)
                    }
                }
                output.append(UInt8(ascii: ")"))
            }
        case .name(let name): write(name, to: &output)
        case .array(let items):
            output.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0, endsWithRegular(items[index - 1]), startsWithRegular(item) { output.append(0x20) }
                write(item, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .dictionary(let dictionary): write(dictionary, to: &output)
        case .reference(let reference): output += "\(reference.number) \(reference.generation) R".utf8
        case .stream(let stream):
            // Streams are written by `PDFUpdateWriter` with their data; only the dictionary here.
            write(stream.dictionary, to: &output)
        }
    }

    static func write(_ dictionary: PDFDictionary, to output: inout [UInt8]) {
        output += "<<".utf8
        for (key, value) in dictionary.entries {
            write(key, to: &output)
            if startsWithRegular(value) { output.append(0x20) }
            write(value, to: &output)
        }
        output += ">>".utf8
    }

    /// Whether a space must separate the object from a regular character before it (`/N 1`, not
    /// `/N1`); before a delimiter (`/N[`, `/N(`, `/N/`) none is written, as compact producers do.
    static func startsWithRegular(_ object: PDFObject) -> Bool {
        switch object {
        case .null, .boolean, .integer, .real, .reference: true
        default: false
        }
    }

    static func endsWithRegular(_ object: PDFObject) -> Bool {
        switch object {
        case .null, .boolean, .integer, .real, .reference, .name: true
        default: false
        }
    }

    static func write(_ name: PDFName, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "/"))
        for byte in name.bytes {
            if byte > 0x20, byte < 0x7F, byte != UInt8(ascii: "#"), PDFParser.isRegular(byte) {
                output.append(byte)
            } else {
                output.append(UInt8(ascii: "#"))
                output += hexDigits(byte)
            }
        }
    }

    static func hexDigits(_ byte: UInt8) -> [UInt8] {
        let digits = Array("0123456789ABCDEF".utf8)
        return [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]]
    }
}
