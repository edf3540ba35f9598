import XCTest
@testable import GatewayCore

/// `DirectoryWatcher.decode`: raw `struct inotify_event` records, as read(2) returns them.
final class UnitDirectoryWatcherDecodeTests: XCTestCase {
    private let inCloseWrite: UInt32 = 0x0000_0008
    private let inMovedTo: UInt32 = 0x0000_0080
    private let inIgnored: UInt32 = 0x0000_8000
    private let inQOverflow: UInt32 = 0x0000_4000
    private let inIsDir: UInt32 = 0x4000_0000

    private func le32(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
    }

    /// One record the way the kernel lays it out: the name NUL-terminated and padded so that
    /// `len` (which counts the padding) is a multiple of 16; `len` is 0 when there is no name.
    private func record(wd: Int32 = 1, mask: UInt32, cookie: UInt32 = 0, name: [UInt8]) -> [UInt8] {
        var padded = name
        if !name.isEmpty {
            padded.append(0)
            while padded.count % 16 != 0 { padded.append(0) }
        }
        return le32(UInt32(bitPattern: wd)) + le32(mask) + le32(cookie) + le32(UInt32(padded.count)) + padded
    }

    private func record(wd: Int32 = 1, mask: UInt32, cookie: UInt32 = 0, _ name: String) -> [UInt8] {
        record(wd: wd, mask: mask, cookie: cookie, name: Array(name.utf8))
    }

    /// Two files, an overflow, a directory, and a third file, all in one read.
    private var buffer: [UInt8] {
        record(mask: inCloseWrite, "Quyết định số 12.pdf")
            + record(mask: inMovedTo, cookie: 77, "a.pdf.json")
            + record(wd: -1, mask: inQOverflow, name: [])
            + record(mask: inIsDir | inCloseWrite, "thư mục")
            + record(mask: inCloseWrite, "b")
    }

    private var expected: [DirectoryWatcher.Event] {
        [.completed(Array("Quyết định số 12.pdf".utf8)), .completed(Array("a.pdf.json".utf8)), .overflow, .completed([0x62])]
    }

    func testRecordLayoutIsTheKernelOne() {
        let one = record(wd: 1, mask: inCloseWrite, "b")
        XCTAssertEqual(one.count, 32)
        XCTAssertEqual(Array(one.prefix(16)), [1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0])
        XCTAssertEqual(one[16], 0x62)
        XCTAssertTrue(one[17...].allSatisfy { $0 == 0 })
    }

    func testDecodesEveryEventOfOneBuffer() {
        let bytes = buffer
        XCTAssertEqual(DirectoryWatcher.decode(bytes[...]), expected)
    }

    func testTwoFileEventsInOneBuffer() {
        let bytes = record(mask: inCloseWrite, "một.pdf") + record(mask: inMovedTo, cookie: 9, "hai.pdf")
        XCTAssertEqual(DirectoryWatcher.decode(bytes[...]), [.completed(Array("một.pdf".utf8)), .completed(Array("hai.pdf".utf8))])
    }

    func testOverflowIsReported() {
        let bytes = record(wd: -1, mask: inQOverflow, name: [])
        XCTAssertEqual(DirectoryWatcher.decode(bytes[...]), [.overflow])
    }

    func testDirectoryEventsAndNamelessEventsAreSkipped() {
        let bytes = record(mask: inIsDir | inCloseWrite, "sub") + record(mask: inIsDir | inMovedTo, "sub2")
            + record(mask: inIgnored, name: []) + record(mask: inCloseWrite, name: [])
        XCTAssertEqual(DirectoryWatcher.decode(bytes[...]), [])
    }

    func testNameExactlyFillingItsLengthHasNoNUL() {
        // 16 name bytes and len 16, no terminator inside the record: the name is all of them.
        let name = Array("0123456789abcdef".utf8)
        let bytes = le32(1) + le32(inCloseWrite) + le32(0) + le32(16) + name + record(mask: inCloseWrite, "x")
        XCTAssertEqual(DirectoryWatcher.decode(bytes[...]), [.completed(name), .completed([0x78])])
    }

    func testNonUTF8NameBytesArePassedThrough() {
        let name: [UInt8] = [0x56, 0xE8, 0x2E, 0x70, 0x64, 0x66]  // Latin-1 "Vè.pdf"
        XCTAssertEqual(DirectoryWatcher.decode(record(mask: inCloseWrite, name: name)[...]), [.completed(name)])
    }

    func testEveryPrefixYieldsOnlyTheCompleteEvents() {
        let bytes = buffer
        // Where each record ends, and what is complete by then.
        var ends: [Int] = []
        var offset = 0
        for part in [record(mask: inCloseWrite, "Quyết định số 12.pdf"), record(mask: inMovedTo, cookie: 77, "a.pdf.json"),
                     record(wd: -1, mask: inQOverflow, name: []), record(mask: inIsDir | inCloseWrite, "thư mục"),
                     record(mask: inCloseWrite, "b")] {
            offset += part.count
            ends.append(offset)
        }
        XCTAssertEqual(ends.last, bytes.count)
        let eventsAfterRecord = [1, 2, 3, 3, 4]  // the directory record yields nothing
        for length in 0...bytes.count {
            let complete = ends.filter { $0 <= length }.count
            let want = complete == 0 ? [] : Array(expected.prefix(eventsAfterRecord[complete - 1]))
            XCTAssertEqual(DirectoryWatcher.decode(bytes[0..<length]), want, "prefix of \(length) bytes")
        }
    }

    func testSliceNotStartingAtZero() {
        // The read buffer is a slice; decoding must use its own indices, not assume 0.
        let junk: [UInt8] = [0xAA, 0xBB, 0xCC]
        let bytes = junk + buffer
        XCTAssertEqual(DirectoryWatcher.decode(bytes[junk.count...]), expected)
        for length in 0...buffer.count {
            XCTAssertEqual(DirectoryWatcher.decode(bytes[junk.count..<junk.count + length]),
                           DirectoryWatcher.decode(buffer[0..<length]), "prefix of \(length) bytes")
        }
    }

    func testHugeLengthFieldDoesNotCrash() {
        let bytes = le32(1) + le32(inCloseWrite) + le32(0) + le32(UInt32.max) + Array("a.pdf".utf8)
        XCTAssertEqual(DirectoryWatcher.decode(bytes[...]), [])
        let after = record(mask: inCloseWrite, "ok") + bytes
        XCTAssertEqual(DirectoryWatcher.decode(after[...]), [.completed(Array("ok".utf8))])
    }

    func testEmptyBuffer() {
        XCTAssertEqual(DirectoryWatcher.decode([UInt8]()[...]), [])
    }
}
