// A card in memory that follows a script: the exact command APDUs it expects, in order, and what
// to answer each. Any other command fails the test — so a test says every byte sent to the card.
import XCTest
@testable import TokenDriver

final class ScriptedCard: CardTransport, @unchecked Sendable {
    struct Unexpected: Error, CustomStringConvertible {
        let description: String
    }

    private struct Step {
        let command: [UInt8]
        let reply: Result<[UInt8], PCSCError>
        let file: StaticString
        let line: UInt
    }

    private var steps: [Step] = []
    private var transactionDepth = 0
    /// What SCardBeginTransaction answers on a stale connection (the card was reset or pulled).
    var transactionFailure: PCSCError?
    private(set) var sent: [[UInt8]] = []
    private(set) var disconnected = false

    /// The next command must be `command` (hex, spaces ignored); the card answers `answer`
    /// (data and status word).
    func expect(_ command: String, answer: String, file: StaticString = #filePath, line: UInt = #line) {
        expect(bytes(hex: command), answer: bytes(hex: answer), file: file, line: line)
    }

    func expect(_ command: [UInt8], answer: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        steps.append(Step(command: command, reply: .success(answer), file: file, line: line))
    }

    /// The next command must be `command`, and its transmit fails (the card left or was reset).
    func expect(_ command: String, fails error: PCSCError, file: StaticString = #filePath, line: UInt = #line) {
        steps.append(Step(command: bytes(hex: command), reply: .failure(error), file: file, line: line))
    }

    /// Every scripted command was sent.
    func assertScriptDone(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(steps.isEmpty, "commands never sent: \(steps.map { hex($0.command) })", file: file, line: line)
    }

    func exchange(_ command: CommandAPDU, extended: Bool?) throws -> ResponseAPDU {
        let encoded = try command.encoded(extended: extended)
        sent.append(encoded)
        guard !steps.isEmpty else {
            XCTFail("unexpected command after the script's end: \(hex(encoded))")
            throw Unexpected(description: "unexpected \(hex(encoded))")
        }
        let step = steps.removeFirst()
        guard encoded == step.command else {
            XCTFail("expected \(hex(step.command)), got \(hex(encoded))", file: step.file, line: step.line)
            throw Unexpected(description: "unexpected \(hex(encoded))")
        }
        // Each logical command holds the card: another program's command cannot split its chain.
        XCTAssertGreaterThan(transactionDepth, 0, "\(hex(encoded)) sent outside a transaction", file: step.file, line: step.line)
        return try ResponseAPDU(wireBytes: try step.reply.get())
    }

    func withTransaction<T>(_ body: () throws -> T) throws -> T {
        if let transactionFailure { throw transactionFailure }
        transactionDepth += 1
        defer { transactionDepth -= 1 }
        return try body()
    }

    func disconnect() { disconnected = true }
}

func bytes(hex: String) -> [UInt8] {
    let digits = Array(hex.filter { !$0.isWhitespace }.utf8)
    precondition(digits.count % 2 == 0, "odd hex: \(hex)")
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16)! }
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02X", $0) }.joined()
}
