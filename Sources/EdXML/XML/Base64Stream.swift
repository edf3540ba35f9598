/// Base64 (RFC 4648 §4) in pieces of any size, so a 200 MB attachment never sits in memory.
/// The decoder is strict: only the alphabet, `=` padding at the very end, and XML whitespace
/// (which producers insert as line breaks) are accepted.
struct Base64Decoder {
    enum Failure: Error, Equatable {
        case invalidCharacter(UInt8, offset: Int)
        case dataAfterPadding(offset: Int)
        case truncated
    }

    private var quad: (UInt32, Int) = (0, 0)   // accumulated bits, sextets held
    private var padding = 0
    private var offset = 0

    private static let table: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(byte)] = Int8(index)
        }
        return table
    }()

    /// Decodes `input`, appending whole bytes to `output`.
    mutating func decode(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(Failure) {
        output.reserveCapacity(output.count + input.count * 3 / 4 + 3)
        let table = Self.table
        for byte in input {
            defer { offset += 1 }
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D: continue
            case UInt8(ascii: "="):
                // Padding may only complete the last quad: xx== or xxx=.
                guard quad.1 + padding >= 2 else { throw .invalidCharacter(byte, offset: offset) }
                padding += 1
                if quad.1 + padding == 4 { try finishPadded(into: &output) }
                continue
            default:
                break
            }
            if padding > 0 || finished { throw .dataAfterPadding(offset: offset) }
            let value = table[Int(byte)]
            guard value >= 0 else { throw .invalidCharacter(byte, offset: offset) }
            quad.0 = quad.0 << 6 | UInt32(value)
            quad.1 += 1
            if quad.1 == 4 {
                output.append(UInt8(truncatingIfNeeded: quad.0 >> 16))
                output.append(UInt8(truncatingIfNeeded: quad.0 >> 8))
                output.append(UInt8(truncatingIfNeeded: quad.0))
                quad = (0, 0)
            }
        }
    }

    private var finished = false

    private mutating func finishPadded(into output: inout [UInt8]) throws(Failure) {
        switch quad.1 {
        case 2: output.append(UInt8(truncatingIfNeeded: quad.0 >> 4))
        case 3:
            output.append(UInt8(truncatingIfNeeded: quad.0 >> 10))
            output.append(UInt8(truncatingIfNeeded: quad.0 >> 2))
        default: throw .truncated
        }
        quad = (0, 0)
        padding = 0
        finished = true
    }

    /// Called at the end of the text: a partial quad means the encoding was cut short.
    func finish() throws(Failure) {
        if quad.1 != 0 || padding != 0 { throw .truncated }
    }
}

/// Encodes in pieces: feed any amount, the encoder keeps the 0–2 bytes that do not yet make a
/// whole group of three.
struct Base64Encoder {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private var pending: [UInt8] = []

    mutating func encode(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        var bytes = input[...]
        while !pending.isEmpty, pending.count < 3, let first = bytes.first {
            pending.append(first)
            bytes = bytes.dropFirst()
        }
        if pending.count == 3 {
            Self.group(pending[0], pending[1], pending[2], into: &output)
            pending.removeAll(keepingCapacity: true)
        }
        let whole = bytes.count / 3 * 3
        output.reserveCapacity(output.count + whole / 3 * 4 + 4)
        var index = bytes.startIndex
        let end = index + whole
        while index < end {
            Self.group(input[index], input[index + 1], input[index + 2], into: &output)
            index += 3
        }
        pending.append(contentsOf: input[end..<bytes.endIndex])
    }

    mutating func finish(into output: inout [UInt8]) {
        let a = Self.alphabet
        switch pending.count {
        case 1:
            output += [a[Int(pending[0] >> 2)], a[Int((pending[0] & 0x03) << 4)], UInt8(ascii: "="), UInt8(ascii: "=")]
        case 2:
            output += [a[Int(pending[0] >> 2)], a[Int((pending[0] & 0x03) << 4 | pending[1] >> 4)], a[Int((pending[1] & 0x0F) << 2)], UInt8(ascii: "=")]
        default: break
        }
        pending.removeAll()
    }

    @inline(__always)
    private static func group(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, into output: inout [UInt8]) {
        let a = alphabet
        output.append(a[Int(b0 >> 2)])
        output.append(a[Int((b0 & 0x03) << 4 | b1 >> 4)])
        output.append(a[Int((b1 & 0x0F) << 2 | b2 >> 6)])
        output.append(a[Int(b2 & 0x3F)])
    }
}
