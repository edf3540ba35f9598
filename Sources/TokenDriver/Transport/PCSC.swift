// The only Swift code that imports pcsc-lite: contexts, readers, card connections, transactions,
// transmit. Everything above it speaks CommandAPDU / ResponseAPDU.
import CPCSCLite

/// A pcsc-lite return code with a name. The ones a running daemon must tell apart and recover
/// from (no service, reader gone, card removed or reset, another program using the card) are
/// named cases; any other keeps its number.
public enum PCSCError: Error, Sendable, Equatable, CustomStringConvertible {
    case noService              // 0x8010001D: pcscd is not running
    case noReadersAvailable     // 0x8010002E
    case readerUnavailable      // 0x80100017
    case unknownReader          // 0x80100009
    case noSmartcard            // 0x8010000C: no card in the reader
    case removedCard            // 0x80100069
    case resetCard              // 0x80100068: someone reset the card; the PIN state is gone
    case sharingViolation       // 0x8010000B: another program holds the card exclusively
    case timeout                // 0x8010000A
    case cancelled              // 0x80100002
    case unresponsiveCard       // 0x80100066
    case unpoweredCard          // 0x80100067
    case notTransacted          // 0x80100016
    case insufficientBuffer     // 0x80100008
    case other(UInt32)

    init(code: UInt32) {
        switch code {
        case 0x8010_001D: self = .noService
        case 0x8010_002E: self = .noReadersAvailable
        case 0x8010_0017: self = .readerUnavailable
        case 0x8010_0009: self = .unknownReader
        case 0x8010_000C: self = .noSmartcard
        case 0x8010_0069: self = .removedCard
        case 0x8010_0068: self = .resetCard
        case 0x8010_000B: self = .sharingViolation
        case 0x8010_000A: self = .timeout
        case 0x8010_0002: self = .cancelled
        case 0x8010_0066: self = .unresponsiveCard
        case 0x8010_0067: self = .unpoweredCard
        case 0x8010_0016: self = .notTransacted
        case 0x8010_0008: self = .insufficientBuffer
        default: self = .other(code)
        }
    }

    /// Worth trying again after reconnecting (as opposed to a fault of the request itself).
    public var isRecoverable: Bool {
        switch self {
        // notTransacted: the reader could not reach the card (vpcd reports a vanished card so).
        case .noService, .readerUnavailable, .removedCard, .resetCard, .sharingViolation, .noSmartcard, .noReadersAvailable, .timeout, .notTransacted: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .noService: "Dịch vụ thẻ (pcscd) không chạy / the smart card service (pcscd) is not running"
        case .noReadersAvailable: "Không có đầu đọc nào / no reader is connected"
        case .readerUnavailable: "Đầu đọc không còn sẵn sàng / the reader is no longer available"
        case .unknownReader: "Không có đầu đọc này / no such reader"
        case .noSmartcard: "Không có thẻ trong đầu đọc / no card in the reader"
        case .removedCard: "Token đã bị rút ra / the token was removed"
        case .resetCard: "Token đã bị khởi động lại bởi chương trình khác / the token was reset by another program"
        case .sharingViolation: "Token đang được chương trình khác sử dụng / another program is using the token"
        case .timeout: "Hết thời gian chờ / timed out"
        case .cancelled: "Đã hủy / cancelled"
        case .unresponsiveCard: "Token không phản hồi / the token does not respond"
        case .unpoweredCard: "Token chưa được cấp nguồn / the token is not powered"
        case .notTransacted: "Lỗi giao dịch với token / transaction with the token failed"
        case .insufficientBuffer: "Bộ đệm không đủ / buffer too small"
        case .other(let code): "PC/SC error 0x\(String(code, radix: 16, uppercase: true))"
        }
    }

    static func check(_ result: LONG) throws(PCSCError) {
        if result != 0 { throw PCSCError(code: UInt32(truncatingIfNeeded: result)) }
    }
}

/// A connection to pcscd (`SCardEstablishContext`). One per thread of use: pcsc-lite contexts
/// are not meant to be shared across threads.
public final class PCSCContext: @unchecked Sendable {
    let handle: SCARDCONTEXT

    public init() throws(PCSCError) {
        var context = SCARDCONTEXT()
        try PCSCError.check(SCardEstablishContext(DWORD(SCARD_SCOPE_SYSTEM), nil, nil, &context))
        handle = context
    }

    deinit { SCardReleaseContext(handle) }

    /// Reader names; an empty list when none is connected.
    public func readers() throws(PCSCError) -> [String] {
        var length = DWORD(0)
        var result = SCardListReaders(handle, nil, nil, &length)
        if UInt32(truncatingIfNeeded: result) == 0x8010_002E { return [] }
        try PCSCError.check(result)
        var buffer = [CChar](repeating: 0, count: Int(length))
        result = SCardListReaders(handle, nil, &buffer, &length)
        if UInt32(truncatingIfNeeded: result) == 0x8010_002E { return [] }
        try PCSCError.check(result)
        // A multi-string: names separated by NUL, ended by an empty one.
        return buffer.split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
    }

    public func connect(reader: String) throws(PCSCError) -> PCSCCard {
        var card = SCARDHANDLE()
        var activeProtocol = DWORD(0)
        try PCSCError.check(SCardConnect(handle, reader, DWORD(SCARD_SHARE_SHARED),
                                         DWORD(SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1), &card, &activeProtocol))
        return PCSCCard(handle: card, activeProtocol: activeProtocol, context: self)
    }
}

/// One connection to the card in a reader.
public final class PCSCCard: @unchecked Sendable {
    let handle: SCARDHANDLE
    let activeProtocol: DWORD
    let context: PCSCContext  // kept alive as long as the card
    private var connected = true

    init(handle: SCARDHANDLE, activeProtocol: DWORD, context: PCSCContext) {
        self.handle = handle
        self.activeProtocol = activeProtocol
        self.context = context
    }

    deinit { if connected { SCardDisconnect(handle, DWORD(SCARD_LEAVE_CARD)) } }

    public enum Disposition: Sendable {
        /// Keep the card as it is (a verified PIN stays verified for the next command).
        case leave
        /// Reset: nobody after us inherits a verified PIN.
        case reset

        var value: DWORD { self == .leave ? DWORD(SCARD_LEAVE_CARD) : DWORD(SCARD_RESET_CARD) }
    }

    public func disconnect(_ disposition: Disposition = .leave) {
        guard connected else { return }
        connected = false
        SCardDisconnect(handle, disposition.value)
    }

    /// Sends one APDU, returns the raw response (data and status word).
    public func transmit(_ bytes: [UInt8]) throws(PCSCError) -> [UInt8] {
        var response = [UInt8](repeating: 0, count: 65538)
        var length = DWORD(response.count)
        let result = activeProtocol == DWORD(SCARD_PROTOCOL_T0)
            ? withUnsafePointer(to: g_rgSCardT0Pci) { SCardTransmit(handle, $0, bytes, DWORD(bytes.count), nil, &response, &length) }
            : withUnsafePointer(to: g_rgSCardT1Pci) { SCardTransmit(handle, $0, bytes, DWORD(bytes.count), nil, &response, &length) }
        try PCSCError.check(result)
        return Array(response.prefix(Int(length)))
    }

    /// Sends one logical command: chained when it does not fit a short APDU and `extended` is
    /// false, with `61xx` / `6Cxx` followed until the whole answer is in.
    public func send(_ command: CommandAPDU, extended: Bool) throws -> ResponseAPDU {
        let pieces = (!extended && !command.fitsShortForm) ? command.chained() : [command]
        for piece in pieces.dropLast() {
            let answer = try ResponseAPDU(wireBytes: transmit(try piece.encoded(extended: false)))
            guard answer.status.isSuccess else { return answer }
        }
        var assembler = ResponseAssembler(command: pieces[pieces.count - 1])
        var action = assembler.firstAction
        while true {
            switch action {
            case .finished(let response):
                return response
            case .send(let next):
                let answer = try ResponseAPDU(wireBytes: transmit(try next.encoded(extended: extended ? nil : false)))
                action = try assembler.received(answer)
            }
        }
    }

    /// Holds the card for a sequence (PIN then signature) so no other program slips between.
    public func withTransaction<T>(_ body: () throws -> T) throws -> T {
        try PCSCError.check(SCardBeginTransaction(handle))
        defer { SCardEndTransaction(handle, DWORD(SCARD_LEAVE_CARD)) }
        return try body()
    }

    /// The card's answer to reset.
    public func atr() throws(PCSCError) -> [UInt8] {
        var atr = [UInt8](repeating: 0, count: Int(MAX_ATR_SIZE))
        var atrLength = DWORD(atr.count)
        var state = DWORD(0), activeProtocol = DWORD(0)
        var nameLength = DWORD(0)
        try PCSCError.check(SCardStatus(handle, nil, &nameLength, &state, &activeProtocol, &atr, &atrLength))
        return Array(atr.prefix(Int(atrLength)))
    }
}
