import DocumentModel
import DurableFiles
import Foundation
import GRDB
import Logging
import NIOPosix
import TestSupport
import XCTest
@testable import GatewayCore

/// `gatewayd backup` / `restore` at the core (issue 20): a consistent online copy, refusals of
/// a damaged or truncated file, no overwrite of a store without --force, keys only when asked.
final class BackupTests: XCTestCase {
    var fixture: StoreFixture!
    var scratch: String!

    override func setUp() async throws {
        fixture = try StoreFixture()
        scratch = fixture.directory + "/scratch"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() async throws { fixture.close() }

    var configuration: GatewayConfiguration {
        var configuration = GatewayConfiguration()
        configuration.dataDirectory = fixture.layout.dataDirectory
        configuration.agency.code = AgencyCode("000.00.20.H13")
        return configuration
    }

    func backup(_ configuration: GatewayConfiguration? = nil, passphrase: String? = nil, name: String = "box.backup") throws -> (String, BackupSummary) {
        let path = scratch + "/" + name
        let summary = try BackupWriter.write(configuration: configuration ?? self.configuration, configurationFile: nil,
                                             includeKeys: passphrase, toFile: path)
        return (path, summary)
    }

    func submitWithAttachment(_ index: Int) async throws -> IntakeReceipt {
        let store = fixture.store
        let staged = try store.beginDocument(expectedSize: nil)
        try staged.append(Array("văn bản \(index) ".utf8) + randomBytes(3000))
        let attachment = try store.beginAttachment(of: staged.id, position: 1, expectedSize: nil)
        try attachment.append(Array("phụ lục \(index)".utf8))
        let metadata = DocumentMetadata(recipients: StoreFixture.recipients, subject: "Về việc sao lưu", attachments: ["pl.xlsx"])
        return try await store.commit(staged, attachments: [attachment], IntakeRequest(
            fileName: "vb.pdf", metadata: metadata, source: .api, intakeKey: nil, cause: "test"))
    }

    /// Opens the restored store, runs the full check, and returns it with its report.
    func checkRestored(_ directory: String) throws -> (StoreCheckReport, [DocumentRecord]) {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        defer { try? pool.syncShutdownGracefully() }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let store = try DocumentStore(layout: StoreLayout(dataDirectory: directory), limits: StoreLimits(diskReserve: 0), logger: logger, ioPool: pool)
        _ = try store.recover()
        let report = try store.check(ownsStore: true)
        return (report, try store.list(limit: 100_000))
    }

    func testBackupDuringContinuousSubmissionRestoresEveryAcknowledgedDocument() async throws {
        for index in 0..<20 { _ = try await submitWithAttachment(index) }
        let acknowledged = Locked<[IntakeReceipt]>([])
        let stop = Locked(false)
        let fixture: StoreFixture = self.fixture
        let submitter = Task {
            var index = 1000
            while !stop.withLock({ $0 }) {
                let receipt = try await fixture.submit(Array("liên tục \(index) ".utf8) + randomBytes(2000))
                acknowledged.withLock { $0.append(receipt) }
                index += 1
            }
        }
        // The backup starts once submissions are flowing, and runs while they go on.
        XCTAssertTrue(waitUntil(changesIn: fixture.layout.objectsDirectory) { acknowledged.withLock { $0.count } >= 5 })
        let before = acknowledged.withLock { $0 }
        let (path, summary) = try backup()
        let during = acknowledged.withLock { $0.count } - before.count
        stop.withLock { $0 = true }
        try await submitter.value
        XCTAssertGreaterThan(summary.description.documents, 20 + before.count - 1)
        XCTAssertEqual(summary.missing, [])

        let target = fixture.directory + "/restored"
        let restored = try BackupRestore.restore(path: path, dataDirectory: target, force: false, passphrase: nil)
        XCTAssertEqual(restored.description.documents, summary.description.documents)
        let (report, rows) = try checkRestored(target)
        XCTAssertTrue(report.isClean, "\(report)")
        XCTAssertEqual(report.integrity, "ok")
        XCTAssertNil(report.auditChain?.broken)
        let byID = Dictionary(uniqueKeysWithValues: rows.map { ($0.id, $0) })
        let original = try fixture.store.list(limit: 100_000).filter { $0.fileName == "vb.pdf" }
        for record in original + before.map(\.document) {
            let copy = try XCTUnwrap(byID[record.id], "\(record.id) acknowledged before the backup is missing")
            XCTAssertEqual(copy.sha256, record.sha256)
            XCTAssertEqual(try POSIXFile.sha256(ofFile: StoreLayout(dataDirectory: target).objectPath(record.id, version: 0)).sha256, record.sha256)
        }
        // Attachments came with their documents, identical.
        for record in original {
            let source = fixture.layout.attachmentPath(record.id, position: 1, version: 0)
            let copy = StoreLayout(dataDirectory: target).attachmentPath(record.id, position: 1, version: 0)
            XCTAssertEqual(try POSIXFile.sha256(ofFile: copy).sha256, try POSIXFile.sha256(ofFile: source).sha256)
        }
        let marker = try XCTUnwrap(RestoredFromMarker.read(dataDirectory: target))
        XCTAssertEqual(marker.backupStartedAt.timeIntervalSince1970, summary.description.startedAt.timeIntervalSince1970, accuracy: 1)
        XCTAssertEqual(marker.boxAgency, "000.00.20.H13")
        print("backup during submission: \(before.count) acknowledged before, \(during) during, \(summary.description.documents) in the backup")
    }

    func testOneFlippedByteAnywhereIsRefusedBeforeAnythingIsWritten() async throws {
        let content = Array("nội dung dễ nhận ra trong tệp sao lưu".utf8)
        try await fixture.submit(content + randomBytes(1000))
        let (path, _) = try backup()
        let original = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        let inContent = try XCTUnwrap(firstIndex(of: content, in: original))
        // A document's content, its tar header, the padding after backup.json, the manifest, the trailer.
        let manifestAt = try XCTUnwrap(firstIndex(of: Array("\"entries\"".utf8), in: original))
        let trailerAt = try XCTUnwrap(firstIndex(of: Array("archive_sha256".utf8), in: original))
        let descriptionEnd = 512 + (try XCTUnwrap(firstIndex(of: Array("}".utf8), in: Array(original[512...])))) + 5
        for offset in [inContent + 3, inContent - 512 + 10, descriptionEnd, manifestAt + 3, trailerAt + 20, original.count - 700] {
            var damaged = original
            damaged[offset] ^= 0x01
            let copy = scratch + "/damaged.backup"
            try Data(damaged).write(to: URL(fileURLWithPath: copy))
            let target = fixture.directory + "/restored-\(offset)"
            XCTAssertThrowsError(try BackupRestore.restore(path: copy, dataDirectory: target, force: false, passphrase: nil), "byte \(offset)") { error in
                guard let failure = error as? BackupFailure, case .damaged = failure else { return XCTFail("byte \(offset): \(error)") }
                XCTAssertTrue(failure.description.hasPrefix("Bản sao lưu bị hỏng"), failure.description)
                XCTAssertTrue(failure.description.contains("The backup is damaged"), failure.description)
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: target), "byte \(offset): the target was written")
        }
        // The content's own hash names the file that differs.
        var damaged = original
        damaged[inContent + 3] ^= 0x01
        try Data(damaged).write(to: URL(fileURLWithPath: scratch + "/damaged.backup"))
        XCTAssertThrowsError(try BackupReader.verify(path: scratch + "/damaged.backup")) { error in
            XCTAssertTrue("\(error)".contains("data/store/objects/"), "\(error)")
        }
        XCTAssertNoThrow(try BackupReader.verify(path: path))
        // Every byte of the trailer's header and block (under no hash but their own form) and
        // every 7th of the end blocks; one bit each, a different bit from byte to byte.
        for offset in Array((original.count - 2048)..<(original.count - 1024)) + Array(stride(from: original.count - 1024, to: original.count, by: 7)) {
            var damaged = original
            damaged[offset] ^= UInt8(1 << (offset % 8))
            try Data(damaged).write(to: URL(fileURLWithPath: scratch + "/damaged.backup"))
            XCTAssertThrowsError(try BackupReader.verify(path: scratch + "/damaged.backup"), "byte \(offset) of \(original.count)")
        }
        // The two changes a tar checksum cannot see, in the trailer's own header: its checksum
        // field's space turned NUL, a leading '0' of it turned space.
        let trailerHeader = original.count - 2048
        XCTAssertEqual(Array(original[trailerHeader..<trailerHeader + 5]), Array("trail".utf8))
        for (offset, mask) in [(trailerHeader + 155, UInt8(0x20)), (trailerHeader + 148, UInt8(0x10))] {
            var damaged = original
            damaged[offset] ^= mask
            try Data(damaged).write(to: URL(fileURLWithPath: scratch + "/damaged.backup"))
            XCTAssertThrowsError(try BackupReader.verify(path: scratch + "/damaged.backup"), "byte \(offset)")
        }
        // And wherever it falls: 100 bytes drawn over the whole file, each alone.
        for offset in (0..<100).map({ _ in Int.random(in: 0..<original.count) }) {
            var damaged = original
            damaged[offset] ^= UInt8(1 << Int.random(in: 0..<8))
            try Data(damaged).write(to: URL(fileURLWithPath: scratch + "/damaged.backup"))
            XCTAssertThrowsError(try BackupReader.verify(path: scratch + "/damaged.backup"), "byte \(offset) of \(original.count)")
        }
    }

    func testTruncatedBackupIsRefused() async throws {
        try await fixture.submit(randomBytes(5000))
        let (path, _) = try backup()
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        for length in [0, 100, 512, original.count / 2, original.count - 1025, original.count - 1] {
            let copy = scratch + "/truncated.backup"
            try original.prefix(length).write(to: URL(fileURLWithPath: copy))
            let target = fixture.directory + "/restored-\(length)"
            XCTAssertThrowsError(try BackupRestore.restore(path: copy, dataDirectory: target, force: false, passphrase: nil), "length \(length)") { error in
                guard let failure = error as? BackupFailure, case .truncated = failure else { return XCTFail("length \(length): \(error)") }
                XCTAssertTrue(failure.description.hasPrefix("Bản sao lưu bị cắt cụt"), failure.description)
                XCTAssertTrue(failure.description.contains("The backup is truncated"), failure.description)
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: target))
        }
        var longer = original
        longer.append(0)
        try longer.write(to: URL(fileURLWithPath: scratch + "/longer.backup"))
        XCTAssertThrowsError(try BackupReader.verify(path: scratch + "/longer.backup"))
    }

    func testNonEmptyStoreIsReplacedOnlyWithForceAndKeptAside() async throws {
        let first = try await fixture.submit(Array("trước".utf8)).document
        let (older, _) = try backup(name: "older.backup")
        let second = try await fixture.submit(Array("sau".utf8)).document
        let (newer, _) = try backup(name: "newer.backup")
        let target = fixture.directory + "/restored"
        _ = try BackupRestore.restore(path: newer, dataDirectory: target, force: false, passphrase: nil)
        XCTAssertThrowsError(try BackupRestore.restore(path: older, dataDirectory: target, force: false, passphrase: nil)) { error in
            guard case .targetNotEmpty = error as? BackupFailure else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("--force"), "\(error)")
        }
        // In use by a daemon: refused even with --force.
        do {
            let lock = try StoreLock(layout: StoreLayout(dataDirectory: target))
            XCTAssertThrowsError(try BackupRestore.restore(path: older, dataDirectory: target, force: true, passphrase: nil)) { error in
                guard case .targetInUse = error as? BackupFailure else { return XCTFail("\(error)") }
            }
            withExtendedLifetime(lock) {}
        }
        let summary = try BackupRestore.restore(path: older, dataDirectory: target, force: true, passphrase: nil)
        let aside = try XCTUnwrap(summary.replacedDirectory)
        XCTAssertTrue(FileManager.default.fileExists(atPath: aside + "/gateway.sqlite"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: StoreLayout(dataDirectory: aside).objectPath(second.id, version: 0)))
        let (report, rows) = try checkRestored(target)
        XCTAssertTrue(report.isClean, "\(report)")
        XCTAssertEqual(rows.map(\.id), [first.id])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: target).filter { $0.hasPrefix(".restore-") }, [])
    }

    func testKeysOnlyWithIncludeKeysAndOnlyWithThePassphrase() async throws {
        try await fixture.submit(Array("khóa".utf8))
        let keyDirectory = fixture.directory + "/etc"
        try FileManager.default.createDirectory(atPath: keyDirectory, withIntermediateDirectories: true)
        let keyText = "-----BEGIN PRIVATE KEY-----\nKHOA-RIENG-CUA-HOP-\(UUID().uuidString)\n-----END PRIVATE KEY-----\n"
        let certificateText = "-----BEGIN CERTIFICATE-----\nCHUNG-THU-\(UUID().uuidString)\n-----END CERTIFICATE-----\n"
        try keyText.write(toFile: keyDirectory + "/box.key", atomically: true, encoding: .utf8)
        try certificateText.write(toFile: keyDirectory + "/box.pem", atomically: true, encoding: .utf8)
        var configuration = self.configuration
        configuration.upstream.keyFile = keyDirectory + "/box.key"
        configuration.upstream.certificateFile = keyDirectory + "/box.pem"
        func contains(_ path: String, _ text: String) throws -> Bool {
            firstIndex(of: Array(text.utf8), in: try Array(Data(contentsOf: URL(fileURLWithPath: path)))) != nil
        }

        let (plain, plainSummary) = try backup(configuration, name: "plain.backup")
        XCTAssertFalse(plainSummary.description.keysIncluded)
        XCTAssertFalse(try contains(plain, "KHOA-RIENG"))
        XCTAssertTrue(try contains(plain, "CHUNG-THU"))  // the certificate is public: always there
        XCTAssertFalse(try BackupReader.verify(path: plain).entries.contains { $0.name == BackupFormat.keysName })
        let restoredPlain = try BackupRestore.restore(path: plain, dataDirectory: fixture.directory + "/plain", force: false, passphrase: "mật khẩu đủ dài")
        XCTAssertFalse(restoredPlain.keysRestored)
        XCTAssertTrue(restoredPlain.nextSteps.contains { $0.contains("re-enrol") }, "\(restoredPlain.nextSteps)")
        let restoredCertificate = fixture.directory + "/plain/restored-files" + keyDirectory + "/box.pem"
        XCTAssertEqual(try String(contentsOfFile: restoredCertificate, encoding: .utf8), certificateText)

        XCTAssertThrowsError(try backup(configuration, passphrase: "ngắn", name: "short.backup")) { error in
            guard case .passphrase = error as? BackupFailure else { return XCTFail("\(error)") }
        }
        let passphrase = "ba con mèo trèo cây cau"
        let (sealed, sealedSummary) = try backup(configuration, passphrase: passphrase, name: "sealed.backup")
        XCTAssertTrue(sealedSummary.description.keysIncluded)
        XCTAssertFalse(try contains(sealed, "KHOA-RIENG"))
        XCTAssertTrue(try BackupReader.verify(path: sealed).entries.contains { $0.name == BackupFormat.keysName })

        let wrongTarget = fixture.directory + "/wrong"
        XCTAssertThrowsError(try BackupRestore.restore(path: sealed, dataDirectory: wrongTarget, force: false, passphrase: "không phải mật khẩu")) { error in
            guard case .passphrase = error as? BackupFailure else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("wrong passphrase"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: wrongTarget))

        let withoutTarget = fixture.directory + "/without"
        let without = try BackupRestore.restore(path: sealed, dataDirectory: withoutTarget, force: false, passphrase: nil)
        XCTAssertFalse(without.keysRestored)
        XCTAssertFalse(FileManager.default.fileExists(atPath: withoutTarget + "/restored-files" + keyDirectory + "/box.key"))
        XCTAssertTrue(without.nextSteps.contains { $0.contains("--passphrase-file") }, "\(without.nextSteps)")

        let target = fixture.directory + "/with"
        let with = try BackupRestore.restore(path: sealed, dataDirectory: target, force: false, passphrase: passphrase)
        XCTAssertTrue(with.keysRestored)
        let restoredKey = target + "/restored-files" + keyDirectory + "/box.key"
        XCTAssertEqual(try String(contentsOfFile: restoredKey, encoding: .utf8), keyText)
        XCTAssertEqual((try FileManager.default.attributesOfItem(atPath: restoredKey)[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        XCTAssertEqual(RestoredFromMarker.read(dataDirectory: target)?.keysRestored, true)
    }

    func testTheConsoleCAComesBackOnlyWithItsKeyAndANewBoxsOwnIsKeptAside() async throws {
        try await fixture.submit(Array("bảng điều khiển".utf8))
        let console = fixture.layout.dataDirectory + "/console"
        try FileManager.default.createDirectory(atPath: console, withIntermediateDirectories: true)
        try "CA CU".write(toFile: console + "/ca.pem", atomically: true, encoding: .utf8)
        try "KHOA CA CU".write(toFile: console + "/ca.key", atomically: true, encoding: .utf8)
        let passphrase = "một mật khẩu đủ dài"
        let (path, _) = try backup(passphrase: passphrase)
        func newBox(_ name: String) throws -> String {  // what a first boot leaves: its own console CA, no store
            let target = fixture.directory + "/" + name
            try FileManager.default.createDirectory(atPath: target + "/console", withIntermediateDirectories: true)
            try "CA MOI".write(toFile: target + "/console/ca.pem", atomically: true, encoding: .utf8)
            return target
        }

        let withoutKeys = try newBox("without")
        let first = try BackupRestore.restore(path: path, dataDirectory: withoutKeys, force: false, passphrase: nil)
        XCTAssertEqual(try String(contentsOfFile: withoutKeys + "/console/ca.pem", encoding: .utf8), "CA MOI")
        XCTAssertNil(first.replacedDirectory)

        let withKeys = try newBox("with")
        let second = try BackupRestore.restore(path: path, dataDirectory: withKeys, force: false, passphrase: passphrase)
        XCTAssertEqual(try String(contentsOfFile: withKeys + "/console/ca.pem", encoding: .utf8), "CA CU")
        XCTAssertEqual(try String(contentsOfFile: withKeys + "/console/ca.key", encoding: .utf8), "KHOA CA CU")
        let aside = try XCTUnwrap(second.replacedDirectory)
        XCTAssertEqual(try String(contentsOfFile: aside + "/console/ca.pem", encoding: .utf8), "CA MOI")
    }

    func testTheArchiveIsPlainTar() async throws {
        let receipt = try await fixture.submit(Array("tar".utf8))
        let (path, _) = try backup()
        let listing = Process()
        listing.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        listing.arguments = ["-tf", path]
        let pipe = Pipe()
        listing.standardOutput = pipe
        try listing.run()
        let names = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n").map(String.init)
        listing.waitUntilExit()
        XCTAssertEqual(listing.terminationStatus, 0)
        XCTAssertEqual(names.first, BackupFormat.descriptionName)
        XCTAssertEqual(Array(names.suffix(2)), [BackupFormat.manifestName, BackupFormat.trailerName])
        XCTAssertTrue(names.contains("data/gateway.sqlite"))
        XCTAssertTrue(names.contains("data/store/objects/\(receipt.document.id)"), "\(names)")
    }
}

/// A value shared between the submitting task and the test.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}

private func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard needle.count <= haystack.count else { return nil }
    outer: for start in 0...(haystack.count - needle.count) {
        for (offset, byte) in needle.enumerated() where haystack[start + offset] != byte { continue outer }
        return start
    }
    return nil
}
