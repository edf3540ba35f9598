/// An ISO/IEC 7816-4 response APDU: data, then the two status bytes.
package struct ResponseAPDU: Sendable, Equatable {
    package var data: [UInt8]
    package var status: StatusWord

    package init(data: [UInt8] = [], status: StatusWord) {
        self.data = data
        self.status = status
    }

    package enum ParseError: Error, Equatable, Sendable { case tooShort(Int) }

    package init(wireBytes bytes: [UInt8]) throws(ParseError) {
        guard bytes.count >= 2 else { throw .tooShort(bytes.count) }
        data = Array(bytes[..<(bytes.count - 2)])
        status = StatusWord(UInt16(bytes[bytes.count - 2]) << 8 | UInt16(bytes[bytes.count - 1]))
    }

    var wireBytes: [UInt8] { data + [UInt8(status.rawValue >> 8), UInt8(status.rawValue & 0xFF)] }
}

/// Status words by name (ISO 7816-4 §5.6 and NIST SP 800-73-4 Part 2 §5.6), so code and logs
/// say `.pinIncorrect(triesLeft: 2)` rather than `63C2`.
package enum StatusWord: Sendable, Equatable, Hashable, CustomStringConvertible {
    case success                               // 9000
    case moreData(available: Int)              // 61xx: xx more bytes (00: 256 or more)
    case wrongLength(exact: Int)               // 6Cxx: resend with Le = xx
    case pinIncorrect(triesLeft: Int)          // 63Cx
    case wrongLengthNoDetail                   // 6700
    case securityStatusNotSatisfied            // 6982
    case authenticationBlocked                 // 6983
    case conditionsNotSatisfied                // 6985
    case incorrectData                         // 6A80
    case functionNotSupported                  // 6A81
    case fileNotFound                          // 6A82 (data object or application not found)
    case incorrectParameters                   // 6A86
    case referenceDataNotFound                 // 6A88 (key reference not found)
    case instructionNotSupported               // 6D00
    case classNotSupported                     // 6E00
    case memoryFailure                         // 6581
    case other(UInt16)

    package init(_ raw: UInt16) {
        let high = UInt8(raw >> 8), low = UInt8(raw & 0xFF)
        switch (high, low) {
        case (0x90, 0x00): self = .success
        case (0x61, _): self = .moreData(available: low == 0 ? 256 : Int(low))
        case (0x6C, _): self = .wrongLength(exact: low == 0 ? 256 : Int(low))
        case (0x63, _) where low & 0xF0 == 0xC0: self = .pinIncorrect(triesLeft: Int(low & 0x0F))
        case (0x67, 0x00): self = .wrongLengthNoDetail
        case (0x69, 0x82): self = .securityStatusNotSatisfied
        case (0x69, 0x83): self = .authenticationBlocked
        case (0x69, 0x85): self = .conditionsNotSatisfied
        case (0x6A, 0x80): self = .incorrectData
        case (0x6A, 0x81): self = .functionNotSupported
        case (0x6A, 0x82): self = .fileNotFound
        case (0x6A, 0x86): self = .incorrectParameters
        case (0x6A, 0x88): self = .referenceDataNotFound
        case (0x6D, 0x00): self = .instructionNotSupported
        case (0x6E, 0x00): self = .classNotSupported
        case (0x65, 0x81): self = .memoryFailure
        default: self = .other(raw)
        }
    }

    package var rawValue: UInt16 {
        switch self {
        case .success: 0x9000
        case .moreData(let available): 0x6100 | UInt16(available == 256 ? 0 : available & 0xFF)
        case .wrongLength(let exact): 0x6C00 | UInt16(exact == 256 ? 0 : exact & 0xFF)
        case .pinIncorrect(let tries): 0x63C0 | UInt16(tries & 0x0F)
        case .wrongLengthNoDetail: 0x6700
        case .securityStatusNotSatisfied: 0x6982
        case .authenticationBlocked: 0x6983
        case .conditionsNotSatisfied: 0x6985
        case .incorrectData: 0x6A80
        case .functionNotSupported: 0x6A81
        case .fileNotFound: 0x6A82
        case .incorrectParameters: 0x6A86
        case .referenceDataNotFound: 0x6A88
        case .instructionNotSupported: 0x6D00
        case .classNotSupported: 0x6E00
        case .memoryFailure: 0x6581
        case .other(let raw): raw
        }
    }

    var isSuccess: Bool { self == .success }

    package var description: String {
        let hex = String(rawValue, radix: 16, uppercase: true)
        let code = String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        switch self {
        case .success: return "\(code) success"
        case .moreData(let n): return "\(code) \(n) more bytes available"
        case .wrongLength(let n): return "\(code) wrong length, expected \(n)"
        case .pinIncorrect(let n): return "\(code) PIN incorrect, \(n) tries left"
        case .authenticationBlocked: return "\(code) PIN blocked"
        case .securityStatusNotSatisfied: return "\(code) security status not satisfied (PIN needed)"
        default: return "\(code)"
        }
    }
}
