/// An ISO/IEC 7816-4 command APDU, in the short or the extended form.
///
///     case 1:   CLA INS P1 P2
///     case 2S:  CLA INS P1 P2 Le                      (Le 1 byte, 00 = 256)
///     case 3S:  CLA INS P1 P2 Lc Data                  (Lc 1..255)
///     case 4S:  CLA INS P1 P2 Lc Data Le
///     case 2E:  CLA INS P1 P2 00 Le1 Le2               (Le 0000 = 65536)
///     case 3E:  CLA INS P1 P2 00 Lc1 Lc2 Data          (Lc 1..65535)
///     case 4E:  CLA INS P1 P2 00 Lc1 Lc2 Data Le1 Le2
package struct CommandAPDU: Sendable, Equatable {
    var cla: UInt8
    var ins: UInt8
    var p1: UInt8
    var p2: UInt8
    package var data: [UInt8]
    /// Bytes expected in the answer: `nil` for none, 1...65536 otherwise (256 and 65536 are
    /// "as many as there are" in the short and extended forms).
    var expectedLength: Int?

    package init(cla: UInt8 = 0x00, ins: UInt8, p1: UInt8, p2: UInt8, data: [UInt8] = [], expectedLength: Int? = nil) {
        self.cla = cla
        self.ins = ins
        self.p1 = p1
        self.p2 = p2
        self.data = data
        self.expectedLength = expectedLength
    }

    /// The class byte bit that says "more commands of this chain follow" (ISO 7816-4 §5.4.2).
    static let chainingBit: UInt8 = 0x10

    package enum EncodingError: Error, Equatable, Sendable {
        case dataTooLong(Int)
        case expectedLengthOutOfRange(Int)
        case needsExtendedLength
    }

    /// Whether this command fits the short form.
    var fitsShortForm: Bool {
        data.count <= 255 && (expectedLength ?? 0) <= 256
    }

    /// The wire bytes; the short form whenever it fits, unless `extended` forces a form.
    func encoded(extended: Bool? = nil) throws(EncodingError) -> [UInt8] {
        guard data.count <= 65535 else { throw .dataTooLong(data.count) }
        if let le = expectedLength, !(1...65536).contains(le) { throw .expectedLengthOutOfRange(le) }
        let useExtended = extended ?? !fitsShortForm
        if !useExtended && !fitsShortForm { throw .needsExtendedLength }
        var bytes = [cla, ins, p1, p2]
        if useExtended {
            if data.isEmpty && expectedLength == nil { return bytes }  // case 1 has no extended form
            bytes.append(0x00)
            if !data.isEmpty {
                bytes.append(UInt8(data.count >> 8))
                bytes.append(UInt8(data.count & 0xFF))
                bytes += data
            }
            if let le = expectedLength {
                let value = le == 65536 ? 0 : le
                bytes.append(UInt8(value >> 8))
                bytes.append(UInt8(value & 0xFF))
            }
        } else {
            if !data.isEmpty {
                bytes.append(UInt8(data.count))
                bytes += data
            }
            if let le = expectedLength { bytes.append(le == 256 ? 0 : UInt8(le)) }
        }
        return bytes
    }

    package enum ParseError: Error, Equatable, Sendable {
        case tooShort(Int)
        case lengthMismatch
    }

    /// Parses any of the seven cases; strict: the length fields must account for every byte.
    package init(wireBytes bytes: [UInt8]) throws(ParseError) {
        guard bytes.count >= 4 else { throw .tooShort(bytes.count) }
        self.init(cla: bytes[0], ins: bytes[1], p1: bytes[2], p2: bytes[3])
        let body = Array(bytes[4...])
        switch body.count {
        case 0:
            return  // case 1
        case 1:
            expectedLength = body[0] == 0 ? 256 : Int(body[0])  // case 2S
            return
        default:
            break
        }
        if body[0] != 0 {
            // Short: case 3S or 4S.
            let lc = Int(body[0])
            if body.count == 1 + lc { data = Array(body[1...]); return }
            if body.count == 2 + lc {
                data = Array(body[1...lc])
                expectedLength = body[lc + 1] == 0 ? 256 : Int(body[lc + 1])
                return
            }
            throw .lengthMismatch
        }
        // Extended: body[0] == 0.
        if body.count == 3 {
            let le = Int(body[1]) << 8 | Int(body[2])
            expectedLength = le == 0 ? 65536 : le  // case 2E
            return
        }
        guard body.count > 3 else { throw .lengthMismatch }
        let lc = Int(body[1]) << 8 | Int(body[2])
        guard lc > 0 else { throw .lengthMismatch }
        if body.count == 3 + lc { data = Array(body[3...]); return }
        if body.count == 5 + lc {
            data = Array(body[3..<(3 + lc)])
            let le = Int(body[3 + lc]) << 8 | Int(body[4 + lc])
            expectedLength = le == 0 ? 65536 : le
            return
        }
        throw .lengthMismatch
    }

    /// Command chaining for cards or readers without extended APDUs: the data split in pieces
    /// of at most `pieceLength`, every command but the last with the chaining bit set, the
    /// expected length on the last only.
    func chained(pieceLength: Int = 255) -> [CommandAPDU] {
        precondition((1...255).contains(pieceLength))
        guard data.count > pieceLength else { return [self] }
        var commands: [CommandAPDU] = []
        var offset = 0
        while offset < data.count {
            let end = min(offset + pieceLength, data.count)
            let last = end == data.count
            commands.append(CommandAPDU(
                cla: last ? cla : cla | Self.chainingBit, ins: ins, p1: p1, p2: p2,
                data: Array(data[offset..<end]), expectedLength: last ? expectedLength.map { min($0, 256) } : nil))
            offset = end
        }
        return commands
    }
}
