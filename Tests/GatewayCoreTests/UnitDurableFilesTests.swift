import DurableFiles
import Foundation
import XCTest

/// The one copy of writing fully, hashing a whole file and reading a directory in batches.
final class UnitDurableFilesTests: XCTestCase {
    var directory: String!

    override func setUp() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("durable-\(UUID().uuidString)").path
        try POSIXFile.makeDirectory(directory)
    }

    override func tearDown() async throws { try? FileManager.default.removeItem(atPath: directory) }

    func testSHA256OfKnownVectorsAndAcrossChunkBoundaries() throws {
        let empty = directory + "/empty", abc = directory + "/abc"
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        _ = FileManager.default.createFile(atPath: abc, contents: Data("abc".utf8))
        XCTAssertEqual(try POSIXFile.sha256(ofFile: empty).sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let (digest, size) = try POSIXFile.sha256(ofFile: abc, sync: true)
        XCTAssertEqual(digest, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(size, 3)
        // Chunks of 2 bytes over 3: the same bytes, in order, whatever the chunk size.
        var seen: [UInt8] = []
        XCTAssertEqual(try POSIXFile.readChunks(ofFile: abc, chunkSize: 2) { seen += $0 }, 3)
        XCTAssertEqual(seen, Array("abc".utf8))
        XCTAssertThrowsError(try POSIXFile.sha256(ofFile: directory + "/missing")) { error in
            XCTAssertEqual((error as? SystemCallError)?.errno, ENOENT)
            XCTAssertTrue(error.localizedDescription.contains("missing"), error.localizedDescription)
        }
    }

    func testWriteAllThenFsyncRenameAndFsyncTheDirectory() throws {
        let temporary = directory + "/file.tmp", target = directory + "/file"
        let fd = try POSIXFile.createExclusive(temporary)
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0) }
        try POSIXFile.writeAll(fd, bytes, path: temporary)
        try POSIXFile.fsyncFile(fd, path: temporary)
        close(fd)
        XCTAssertThrowsError(try POSIXFile.createExclusive(temporary), "O_EXCL: never two writers")
        try POSIXFile.rename(temporary, target)
        try POSIXFile.fsyncDirectory(directory)
        XCTAssertEqual(try [UInt8](Data(contentsOf: URL(fileURLWithPath: target))), bytes)
        XCTAssertEqual(POSIXFile.size(target), 200_000)
        XCTAssertNil(POSIXFile.size(temporary))
    }

    func testDirectoryReaderGivesEveryNameOnceInBatches() throws {
        let names = Set((0..<25).map { "n\($0)" })
        for name in names { _ = FileManager.default.createFile(atPath: directory + "/" + name, contents: Data()) }
        let reader = try DirectoryReader(directory)
        var seen: [String] = []
        while case let batch = reader.next(upTo: 4), !batch.isEmpty {
            XCTAssertLessThanOrEqual(batch.count, 4)
            seen += batch.map { String(decoding: $0, as: UTF8.self) }
        }
        XCTAssertEqual(seen.count, 25)
        XCTAssertEqual(Set(seen), names)
        XCTAssertEqual(Set(try POSIXFile.listDirectory(directory).map { String(decoding: $0, as: UTF8.self) }), names)
    }
}
