import Foundation
import XCTest
@testable import TokenDriver

/// The PC/SC binding against the real pcscd, with a card "inserted" in vsmartcard's virtual
/// reader by a small scripted card (it speaks the vpcd protocol: 2-byte length, then a control
/// byte or an APDU). It answers long objects through `61xx` the way real tokens do, so the
/// binding and the response assembler are exercised together through the real stack.
final class PCSCBoundaryTests: XCTestCase {
    static let scriptedCard = #"""
    import socket, struct, sys
    ATR = bytes.fromhex("3B8880010000000000000000")  # any valid-looking ATR
    OBJECT = bytes((i * 7) & 0xFF for i in range(600))
    s = socket.create_connection(("127.0.0.1", 35963), timeout=20)
    pending = b""
    def reply(data): s.sendall(struct.pack(">H", len(data)) + data)
    while True:
        head = s.recv(2, socket.MSG_WAITALL)
        if len(head) < 2: break
        (n,) = struct.unpack(">H", head)
        msg = s.recv(n, socket.MSG_WAITALL) if n else b""
        if n == 1:
            if msg[0] == 4: reply(ATR)
            continue
        ins = msg[1]
        if ins == 0xA4: reply(b"\x61\x03\x4F\x01\x00" + b"\x90\x00")
        elif ins == 0xCB:
            pending = OBJECT
            chunk, pending = pending[:256], pending[256:]
            reply(chunk + bytes([0x61, min(len(pending), 256) & 0xFF]))
        elif ins == 0xC0:
            chunk, pending = pending[:256], pending[256:]
            reply(chunk + (bytes([0x61, min(len(pending), 256) & 0xFF]) if pending else b"\x90\x00"))
        elif ins == 0xEE: break   # "remove the card": close the connection
        else: reply(b"\x6D\x00")
    s.close()
    """#

    var card: Process?

    override func setUp() async throws {
        do { _ = try PCSCContext() } catch { throw XCTSkip("needs pcscd running with vsmartcard-vpcd (scripts/test starts it): \(error)") }
    }

    override func tearDown() async throws {
        if let card, card.isRunning { kill(card.processIdentifier, SIGKILL); card.waitUntilExit() }
        // The next test must find the reader empty, not the card this one killed still listed.
        if let context = try? PCSCContext() { _ = try? VirtualReader.waitUntilEmpty(context) }
    }

    func insertScriptedCard() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.scriptedCard]
        try process.run()
        card = process
    }

    func testTransmitThroughPcscdWithGetResponseChaining() throws {
        let context = try PCSCContext()
        let readers = try context.readers()
        XCTAssertTrue(readers.contains { $0.hasPrefix("Virtual PCD") }, "\(readers)")
        try insertScriptedCard()
        let connection = try VirtualReader.connectWhenPresent(context)
        XCTAssertEqual(try connection.atr(), [0x3B, 0x88, 0x80, 0x01, 0, 0, 0, 0, 0, 0, 0, 0])
        let selected = try connection.withTransaction { try connection.send(PIV.select(), extended: false) }
        XCTAssertEqual(selected.status, .success)
        let object = try connection.send(PIV.getData(PIV.Slot.signature.certificateObject), extended: false)
        XCTAssertEqual(object.status, .success)
        XCTAssertEqual(object.data, (0..<600).map { UInt8(($0 * 7) & 0xFF) })
        XCTAssertEqual(try connection.send(CommandAPDU(ins: 0x99, p1: 0, p2: 0), extended: false).status, .instructionNotSupported)
    }

    func testRemovedCardIsANamedRecoverableError() throws {
        let context = try PCSCContext()
        try insertScriptedCard()
        let connection = try VirtualReader.connectWhenPresent(context)
        _ = try? connection.transmit([0x00, 0xEE, 0x00, 0x00])  // the scripted card leaves
        card?.waitUntilExit()
        // pcscd learns that the card left by polling vpcd (its own timer): wait for it to say so.
        XCTAssertTrue(try VirtualReader.waitUntilEmpty(context), "pcscd still sees a card after it left")
        var caught: PCSCError?
        do { _ = try connection.transmit(try PIV.select().encoded()) } catch let error as PCSCError { caught = error }
        let error = try XCTUnwrap(caught, "no error after the card left")
        XCTAssertTrue(error.isRecoverable, "\(error)")
        XCTAssertTrue([.removedCard, .resetCard, .noSmartcard, .readerUnavailable, .unresponsiveCard, .notTransacted].contains(error), "\(error)")
        connection.disconnect()
        XCTAssertTrue(try VirtualReader.waitUntilEmpty(context), "pcscd still sees a card after it left")
    }
}
