import DocumentModel
import DurableFiles
import Foundation
import Logging
import NIOPosix
import XCTest
@testable import GatewayCore

/// A fresh store in a temporary directory per test (GRDB's habit: never share a database).
final class StoreFixture: @unchecked Sendable {
    let directory: String
    let ioPool: NIOThreadPool
    let store: DocumentStore
    var layout: StoreLayout { store.layout }

    init(directory: String? = nil, limits: StoreLimits = StoreLimits(maximumDocumentSize: 50_000_000, diskReserve: 0)) throws {
        let dir = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("gw-test-\(UUID().uuidString)").path
        self.directory = dir
        ioPool = NIOThreadPool(numberOfThreads: 4)
        ioPool.start()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        store = try DocumentStore(layout: StoreLayout(dataDirectory: dir + "/data"), limits: limits, logger: logger, ioPool: ioPool)
    }

    func close() {
        try? ioPool.syncShutdownGracefully()
        try? FileManager.default.removeItem(atPath: directory)
    }

    static let recipients = [AgencyCode("000.00.20.H13")!]

    /// Submits bytes the way the API door does.
    @discardableResult
    func submit(_ bytes: [UInt8], name: String = "văn bản.pdf", key: String? = nil, signed: Bool = false) async throws -> IntakeReceipt {
        let staged = try store.beginDocument(expectedSize: Int64(bytes.count))
        try staged.append(bytes)
        return try await store.commit(staged, IntakeRequest(
            fileName: name, metadata: DocumentMetadata(recipients: Self.recipients, subject: "Về việc thử nghiệm", signed: signed),
            source: .api, intakeKey: key.map { "api:\($0)" }, cause: "test"))
    }

    /// Everything a later bad input must leave untouched: rows, states, and content on disk.
    func snapshot() throws -> [String] {
        try store.list(limit: 1000).map { record in
            let content = (try? POSIXFile.sha256(ofFile: layout.objectPath(record.id, version: 0)).sha256) ?? "missing"
            return "\(record.id) \(record.state.rawValue) \(record.sha256) \(content) \(record.fileName)"
        }
    }

    /// The hot folder over this store, at `<directory>/outbox`, quiet and quick to settle.
    func hotFolderIntake(defaults: [AgencyCode] = [], retry: Duration = .seconds(30), attachmentWait: Duration = .seconds(3600)) -> HotFolderIntake {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return HotFolderIntake(
            settings: .init(folder: directory + "/outbox", settleDelay: .milliseconds(10), diskRetryInterval: retry,
                            parser: MetadataParser(defaultRecipients: defaults), attachmentWait: attachmentWait),
            store: store, logger: logger)
    }

    func temporaryFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: layout.temporaryDirectory)
    }
}

func randomBytes(_ count: Int) -> [UInt8] {
    (0..<count).map { _ in UInt8.random(in: 0...255) }
}

func assertIntakeError<T>(_ code: IntakeError.Code, file: StaticString = #filePath, line: UInt = #line, _ body: () async throws -> T) async {
    do {
        _ = try await body()
        XCTFail("expected \(code.rawValue), got success", file: file, line: line)
    } catch let error as IntakeError {
        XCTAssertEqual(error.code, code, "\(error)", file: file, line: line)
    } catch {
        XCTFail("expected \(code.rawValue), got \(error)", file: file, line: line)
    }
}
