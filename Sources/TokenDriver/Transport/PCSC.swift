// The only Swift code that imports pcsc-lite: contexts, readers, card connections, transactions,
// transmit. Everything above it speaks CommandAPDU / ResponseAPDU.
import CPCSCLite
#if canImport(Glibc)
import Glibc
#endif

/// A pcsc-lite return code with a name. The ones a running daemon must tell apart and recover
/// from (no service, reader gone, card removed or reset, another program using the card) are
/// named cases; any other keeps its number.
package enum PCSCError: Error, Sendable, Equatable, CustomStringConvertible {
    case noService              // 0x8010001D: pcscd is not running
    case serviceStopped         // 0x8010001E: pcscd shut down while we were connected
    case invalidHandle          // 0x80100003: a context or card handle from a pcscd that has gone
    case communicationError     // 0x80100013: the socket to pcscd broke
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
        case 0x8010_001E: self = .serviceStopped
        case 0x8010_0003: self = .invalidHandle
        case 0x8010_0013: self = .communicationError
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
    var isRecoverable: Bool {
        switch self {
        // notTransacted: the reader could not reach the card (vpcd reports a vanished card so).
        case .noService, .serviceStopped, .invalidHandle, .communicationError, .readerUnavailable, .removedCard, .resetCard, .sharingViolation, .noSmartcard, .noReadersAvailable, .timeout, .notTransacted: true
        default: false
        }
    }

    package var description: String {
        switch self {
        case .noService: "Dịch vụ thẻ (pcscd) không chạy / the smart card service (pcscd) is not running"
        case .serviceStopped: "Dịch vụ thẻ (pcscd) đã dừng / the smart card service (pcscd) stopped"
        case .invalidHandle: "Kết nối tới dịch vụ thẻ không còn hiệu lực / the connection to pcscd is no longer valid"
        case .communicationError: "Mất liên lạc với dịch vụ thẻ / lost contact with pcscd"
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
package final class PCSCContext: @unchecked Sendable {
    let handle: SCARDCONTEXT
    /// Where APDUs are traced (redacted: `APDUTrace`), for cards connected through this context.
    /// `GATEWAYD_APDU_TRACE=1` in the environment sends them to standard error.
    var trace: (@Sendable (String) -> Void)?

    package init() throws(PCSCError) {
        var context = SCARDCONTEXT()
        try PCSCError.check(SCardEstablishContext(DWORD(SCARD_SCOPE_SYSTEM), nil, nil, &context))
        handle = context
        if getenv("GATEWAYD_APDU_TRACE").map({ String(cString: $0) }) == "1" { trace = APDUTrace.standardError }
    }

    deinit { SCardReleaseContext(handle) }

    /// Reader names; an empty list when none is connected.
    package func readers() throws(PCSCError) -> [String] {
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

    /// pcsc-lite's pseudo-reader whose state changes when a reader is plugged in or out.
    package static let plugAndPlayReader = "\\\\?PnP?\\Notification"

    /// One entry of `waitForChange`: what the caller last knew of a reader (`knownState`), and
    /// what pcscd reports now (`eventState`, with the card's ATR when one is present).
    package struct ReaderState: Sendable, Equatable {
        package var reader: String
        package var knownState: UInt32
        package var eventState: UInt32 = 0
        package var atr: [UInt8] = []

        package init(reader: String, knownState: UInt32 = 0) {
            self.reader = reader
            self.knownState = knownState
        }

        package static let changed: UInt32 = 0x0002   // SCARD_STATE_CHANGED
        package static let unknown: UInt32 = 0x0004   // SCARD_STATE_UNKNOWN: no such reader (any more)
        package static let present: UInt32 = 0x0020   // SCARD_STATE_PRESENT
        package static let mute: UInt32 = 0x0200      // SCARD_STATE_MUTE: a card that does not answer
    }

    /// `SCardGetStatusChange`: blocks until one of `states` differs from its `knownState` (or
    /// `timeoutMilliseconds` passes, or `cancel()` is called from another thread), then fills in
    /// every `eventState`. Waiting costs no CPU: pcscd answers over its socket when something happens.
    package func waitForChange(_ states: inout [ReaderState], timeoutMilliseconds: UInt32? = nil) throws(PCSCError) {
        let names = states.map { strdup($0.reader) }
        defer { names.forEach { free($0) } }
        var raw = states.enumerated().map { index, state in
            var entry = SCARD_READERSTATE()
            entry.szReader = UnsafePointer(names[index])
            entry.dwCurrentState = DWORD(state.knownState)
            return entry
        }
        let result = SCardGetStatusChange(handle, DWORD(timeoutMilliseconds ?? 0xFFFF_FFFF), &raw, DWORD(raw.count))
        try PCSCError.check(result)
        for index in states.indices {
            states[index].eventState = UInt32(truncatingIfNeeded: raw[index].dwEventState)
            let count = min(Int(raw[index].cbAtr), Int(MAX_ATR_SIZE))
            states[index].atr = withUnsafeBytes(of: raw[index].rgbAtr) { Array($0.prefix(count)) }
        }
    }

    /// Wakes a `waitForChange` blocked on this context in another thread (it fails `.cancelled`).
    package func cancel() {
        SCardCancel(handle)
    }

    package func connect(reader: String) throws(PCSCError) -> PCSCCard {
        var card = SCARDHANDLE()
        var activeProtocol = DWORD(0)
        try PCSCError.check(SCardConnect(handle, reader, DWORD(SCARD_SHARE_SHARED),
                                         DWORD(SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1), &card, &activeProtocol))
        let connected = PCSCCard(handle: card, activeProtocol: activeProtocol, reader: reader, context: self)
        connected.trace = trace
        return connected
    }
}

/// One connection to the card in a reader; `send` (chaining, GET RESPONSE) comes with `CardTransport`.
package final class PCSCCard: CardTransport, @unchecked Sendable {
    let handle: SCARDHANDLE
    let activeProtocol: DWORD
    let reader: String
    let context: PCSCContext  // kept alive as long as the card
    private var connected = true
    var trace: (@Sendable (String) -> Void)?

    init(handle: SCARDHANDLE, activeProtocol: DWORD, reader: String, context: PCSCContext) {
        self.handle = handle
        self.activeProtocol = activeProtocol
        self.reader = reader
        self.context = context
    }

    deinit { if connected { SCardDisconnect(handle, DWORD(SCARD_LEAVE_CARD)) } }

    package enum Disposition: Sendable {
        /// Keep the card as it is (a verified PIN stays verified for the next command).
        case leave
        /// Reset: nobody after us inherits a verified PIN.
        case reset

        var value: DWORD { self == .leave ? DWORD(SCARD_LEAVE_CARD) : DWORD(SCARD_RESET_CARD) }
    }

    package func disconnect() { disconnect(.leave) }

    package func disconnect(_ disposition: Disposition) {
        guard connected else { return }
        connected = false
        SCardDisconnect(handle, disposition.value)
    }

    /// Sends one APDU, returns the raw response (data and status word).
    func transmit(_ bytes: [UInt8]) throws(PCSCError) -> [UInt8] {
        var response = [UInt8](repeating: 0, count: 65538)
        var length = DWORD(response.count)
        let result = activeProtocol == DWORD(SCARD_PROTOCOL_T0)
            ? withUnsafePointer(to: g_rgSCardT0Pci) { SCardTransmit(handle, $0, bytes, DWORD(bytes.count), nil, &response, &length) }
            : withUnsafePointer(to: g_rgSCardT1Pci) { SCardTransmit(handle, $0, bytes, DWORD(bytes.count), nil, &response, &length) }
        try PCSCError.check(result)
        return Array(response.prefix(Int(length)))
    }

    /// One APDU out, one answer back, both traced when tracing is on (never a PIN: `APDUTrace`).
    package func exchange(_ command: CommandAPDU, extended: Bool?) throws -> ResponseAPDU {
        trace?("→ " + APDUTrace.describe(command))
        let raw = try transmit(try command.encoded(extended: extended))
        if raw.count < 2 {
            // No status word at all: the reader lost the card mid-command (vpcd answers so when a
            // token is pulled during a signature). pcscd learns of a removal by polling the reader,
            // so it may not know yet: give it up to a second to report the card gone.
            if !cardStaysPresent(milliseconds: 1000) { throw PCSCError.removedCard }
            let status = Result { () throws(PCSCError) -> [UInt8] in try atr() }
            if case .failure(let error) = status { throw error }
            throw PCSCError.unresponsiveCard
        }
        let answer = try ResponseAPDU(wireBytes: raw)
        trace?("← " + APDUTrace.describe(answer))
        return answer
    }

    /// Whether pcscd still reports a card in our reader after `milliseconds` (woken by the change
    /// if it comes sooner). True when pcscd cannot say: the caller then asks the card itself.
    private func cardStaysPresent(milliseconds: UInt32) -> Bool {
        var states = [PCSCContext.ReaderState(reader: reader)]
        let deadline = ContinuousClock.now + .milliseconds(Int(milliseconds))
        do {
            try context.waitForChange(&states, timeoutMilliseconds: 0)  // the state now
            while states[0].eventState & PCSCContext.ReaderState.present != 0 {
                let left = deadline - ContinuousClock.now
                guard left > .zero else { return true }
                states[0].knownState = states[0].eventState & ~PCSCContext.ReaderState.changed
                try context.waitForChange(&states, timeoutMilliseconds: UInt32((left / .milliseconds(1)).rounded(.up)))
            }
            return false
        } catch {
            return true  // timed out with the card still there, or pcscd cannot say
        }
    }

    /// Holds the card for a sequence (PIN then signature) so no other program slips between.
    /// pcsc-lite counts nested transactions on one handle: the card is let go at the outermost end.
    package func withTransaction<T>(_ body: () throws -> T) throws -> T {
        try PCSCError.check(SCardBeginTransaction(handle))
        defer { SCardEndTransaction(handle, DWORD(SCARD_LEAVE_CARD)) }
        return try body()
    }

    /// `SCardGetAttrib(SCARD_ATTR_CHANNEL_ID)`: for a USB reader, 0x0020BBAA with the USB bus
    /// (BB) and device address (AA) — how a card in a reader is matched to its USB device. Nil
    /// where the driver does not tell (virtual or serial readers).
    func channelID() -> UInt32? {
        var value = DWORD(0)
        var length = DWORD(MemoryLayout<DWORD>.size)
        let attribute = DWORD(0x0002_0110)  // SCARD_ATTR_VALUE(SCARD_CLASS_COMMUNICATIONS = 2, 0x0110)
        let result = withUnsafeMutableBytes(of: &value) { buffer in
            SCardGetAttrib(handle, attribute, buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), &length)
        }
        guard result == 0 else { return nil }
        return UInt32(truncatingIfNeeded: value)
    }

    /// The card's answer to reset.
    package func atr() throws(PCSCError) -> [UInt8] {
        var atr = [UInt8](repeating: 0, count: Int(MAX_ATR_SIZE))
        var atrLength = DWORD(atr.count)
        var state = DWORD(0), activeProtocol = DWORD(0)
        var nameLength = DWORD(0)
        try PCSCError.check(SCardStatus(handle, nil, &nameLength, &state, &activeProtocol, &atr, &atrLength))
        return Array(atr.prefix(Int(atrLength)))
    }
}
