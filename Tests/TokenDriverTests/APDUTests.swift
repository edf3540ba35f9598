import XCTest
@testable import TokenDriver

final class APDUTests: XCTestCase {
    // Known vectors: the seven cases of ISO 7816-4, with PIV commands where they exist.
    func testKnownVectors() throws {
        let pivAID: [UInt8] = [0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00]
        let vectors: [(CommandAPDU, [UInt8], String)] = [
            (CommandAPDU(ins: 0x20, p1: 0x00, p2: 0x80), [0x00, 0x20, 0x00, 0x80], "case 1: VERIFY without data (retry counter)"),
            (CommandAPDU(ins: 0xC0, p1: 0, p2: 0, expectedLength: 256), [0x00, 0xC0, 0x00, 0x00, 0x00], "case 2S, Le 256"),
            (CommandAPDU(ins: 0xA4, p1: 0x04, p2: 0x00, data: pivAID), [0x00, 0xA4, 0x04, 0x00, 0x0B] + pivAID, "case 3S: SELECT PIV"),
            (CommandAPDU(ins: 0xCB, p1: 0x3F, p2: 0xFF, data: [0x5C, 0x03, 0x5F, 0xC1, 0x05], expectedLength: 256),
             [0x00, 0xCB, 0x3F, 0xFF, 0x05, 0x5C, 0x03, 0x5F, 0xC1, 0x05, 0x00], "case 4S: GET DATA 9A certificate"),
            (CommandAPDU(ins: 0xC0, p1: 0, p2: 0, expectedLength: 65536), [0x00, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00], "case 2E, Le 65536"),
            (CommandAPDU(ins: 0x87, p1: 0x07, p2: 0x9C, data: Array(repeating: 0xAB, count: 300)),
             [0x00, 0x87, 0x07, 0x9C, 0x00, 0x01, 0x2C] + Array(repeating: 0xAB, count: 300), "case 3E"),
            (CommandAPDU(ins: 0x87, p1: 0x07, p2: 0x9C, data: Array(repeating: 0x01, count: 262), expectedLength: 65536),
             [0x00, 0x87, 0x07, 0x9C, 0x00, 0x01, 0x06] + Array(repeating: 0x01, count: 262) + [0x00, 0x00], "case 4E: RSA-2048 GENERAL AUTHENTICATE"),
        ]
        for (command, bytes, label) in vectors {
            XCTAssertEqual(try command.encoded(), bytes, label)
            XCTAssertEqual(try CommandAPDU(wireBytes: bytes), command, label)
        }
    }

    func testShortFormRefusedWhenItDoesNotFit() {
        let command = CommandAPDU(ins: 0x87, p1: 0x07, p2: 0x9C, data: Array(repeating: 0, count: 256))
        XCTAssertThrowsError(try command.encoded(extended: false)) { XCTAssertEqual($0 as? CommandAPDU.EncodingError, .needsExtendedLength) }
        XCTAssertThrowsError(try CommandAPDU(ins: 0, p1: 0, p2: 0, expectedLength: 0).encoded())
        XCTAssertThrowsError(try CommandAPDU(ins: 0, p1: 0, p2: 0, data: Array(repeating: 0, count: 65536)).encoded())
    }

    func testRoundTripOfRandomCommandsInBothForms() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let length = Int.random(in: 0...600, using: &generator)
            let le: Int? = Bool.random() ? nil : Int.random(in: 1...65536, using: &generator)
            let command = CommandAPDU(cla: 0, ins: UInt8.random(in: 0...255), p1: 1, p2: 2,
                                      data: (0..<length).map { _ in UInt8.random(in: 0...255) }, expectedLength: le)
            let bytes = try command.encoded()
            XCTAssertEqual(try CommandAPDU(wireBytes: bytes), command)
            if command.fitsShortForm, !(command.data.isEmpty && le == nil) {
                XCTAssertEqual(try CommandAPDU(wireBytes: try command.encoded(extended: true)), command)
            }
        }
    }

    func testEveryTruncationOfAnExtendedCommandIsRejectedOrParsesAsAnotherCase() throws {
        let bytes = try CommandAPDU(ins: 0x87, p1: 0x07, p2: 0x9C, data: Array(repeating: 7, count: 300), expectedLength: 512).encoded()
        for cut in 0..<bytes.count {
            let prefix = Array(bytes.prefix(cut))
            if cut < 4 {
                XCTAssertThrowsError(try CommandAPDU(wireBytes: prefix), "\(cut)")
            } else if let parsed = try? CommandAPDU(wireBytes: prefix) {
                // A prefix may itself be a valid shorter case (e.g. 4 bytes = case 1), never the original.
                XCTAssertNotEqual(parsed, try CommandAPDU(wireBytes: bytes), "\(cut)")
            }
        }
    }

    func testChainingSplitsDataSetsTheBitAndPutsLeOnTheLastOnly() {
        let data = (0..<600).map { UInt8($0 & 0xFF) }
        let command = CommandAPDU(ins: 0x87, p1: 0x07, p2: 0x9C, data: data, expectedLength: 65536)
        let chain = command.chained()
        XCTAssertEqual(chain.map(\.data.count), [255, 255, 90])
        XCTAssertEqual(chain.map(\.cla), [0x10, 0x10, 0x00])
        XCTAssertEqual(chain.map(\.expectedLength), [nil, nil, 256])
        XCTAssertEqual(chain.flatMap(\.data), data)
        XCTAssertTrue(chain.allSatisfy(\.fitsShortForm))
        XCTAssertEqual(CommandAPDU(ins: 1, p1: 0, p2: 0, data: [1, 2]).chained(), [CommandAPDU(ins: 1, p1: 0, p2: 0, data: [1, 2])])
    }

    func testStatusWordsHaveNamesAndRoundTrip() throws {
        XCTAssertEqual(StatusWord(0x9000), .success)
        XCTAssertEqual(StatusWord(0x63C2), .pinIncorrect(triesLeft: 2))
        XCTAssertEqual(StatusWord(0x6983), .authenticationBlocked)
        XCTAssertEqual(StatusWord(0x6982), .securityStatusNotSatisfied)
        XCTAssertEqual(StatusWord(0x6100), .moreData(available: 256))
        XCTAssertEqual(StatusWord(0x6C10), .wrongLength(exact: 16))
        XCTAssertEqual(StatusWord(0x6A82), .fileNotFound)
        XCTAssertEqual(StatusWord(0x6F00), .other(0x6F00))
        for raw in UInt16.min...UInt16.max { XCTAssertEqual(StatusWord(raw).rawValue, raw) }
        XCTAssertTrue(StatusWord(0x63C1).description.contains("1 tries left"))
    }

    func testResponseParsing() throws {
        XCTAssertEqual(try ResponseAPDU(wireBytes: [0x01, 0x02, 0x90, 0x00]), ResponseAPDU(data: [1, 2], status: .success))
        XCTAssertEqual(try ResponseAPDU(wireBytes: [0x63, 0xC0]).status, .pinIncorrect(triesLeft: 0))
        XCTAssertThrowsError(try ResponseAPDU(wireBytes: [0x90]))
        XCTAssertThrowsError(try ResponseAPDU(wireBytes: []))
        let response = ResponseAPDU(data: [9, 8, 7], status: .moreData(available: 12))
        XCTAssertEqual(try ResponseAPDU(wireBytes: response.wireBytes), response)
    }

    func testAssemblerFollowsGetResponseAndWrongLength() throws {
        let command = CommandAPDU(ins: 0xCB, p1: 0x3F, p2: 0xFF, data: [0x5C, 0x03, 0x5F, 0xC1, 0x05], expectedLength: 256)
        var assembler = ResponseAssembler(command: command)
        XCTAssertEqual(assembler.firstAction, .send(command))
        var action = try assembler.received(ResponseAPDU(data: Array(repeating: 1, count: 256), status: .moreData(available: 256)))
        XCTAssertEqual(action, .send(CommandAPDU(ins: 0xC0, p1: 0, p2: 0, expectedLength: 256)))
        action = try assembler.received(ResponseAPDU(data: Array(repeating: 2, count: 256), status: .moreData(available: 20)))
        XCTAssertEqual(action, .send(CommandAPDU(ins: 0xC0, p1: 0, p2: 0, expectedLength: 20)))
        action = try assembler.received(ResponseAPDU(data: Array(repeating: 3, count: 20), status: .success))
        XCTAssertEqual(action, .finished(ResponseAPDU(data: Array(repeating: 1, count: 256) + Array(repeating: 2, count: 256) + Array(repeating: 3, count: 20), status: .success)))

        var resend = ResponseAssembler(command: CommandAPDU(ins: 0xCA, p1: 0, p2: 0, expectedLength: 256))
        XCTAssertEqual(try resend.received(ResponseAPDU(status: .wrongLength(exact: 9))), .send(CommandAPDU(ins: 0xCA, p1: 0, p2: 0, expectedLength: 9)))
        XCTAssertThrowsError(try resend.received(ResponseAPDU(status: .wrongLength(exact: 9))))

        var failing = ResponseAssembler(command: command)
        XCTAssertEqual(try failing.received(ResponseAPDU(status: .securityStatusNotSatisfied)), .finished(ResponseAPDU(status: .securityStatusNotSatisfied)))
    }
}
