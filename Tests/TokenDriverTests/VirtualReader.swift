import Foundation
import TestSupport
import XCTest
@testable import TokenDriver

/// vsmartcard's virtual reader in pcscd, where test cards connect themselves.
enum VirtualReader {
    static func reader(_ context: PCSCContext) throws -> String {
        try XCTUnwrap(try context.readers().first { $0.hasPrefix("Virtual PCD") }, "no virtual reader in pcscd")
    }

    /// Connects once a card is in the reader (a card process needs a moment to connect).
    static func connectWhenPresent(_ context: PCSCContext, seconds: Double = 10) throws -> PCSCCard {
        let name = try reader(context)
        let deadline = Date().addingTimeInterval(seconds)
        var lastError: PCSCError = .noSmartcard
        while Date() < deadline {
            let attempt = Result { () throws(PCSCError) -> PCSCCard in try context.connect(reader: name) }
            switch attempt {
            case .success(let card): return card
            case .failure(let error): lastError = error
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw lastError
    }

    /// Waits until pcscd sees the reader empty, so the next test starts from a clean reader.
    static func waitUntilEmpty(_ context: PCSCContext, seconds: Double = 5) throws -> Bool {
        let name = try reader(context)
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let attempt = Result { () throws(PCSCError) -> PCSCCard in try context.connect(reader: name) }
            if case .failure(let failure) = attempt, failure == .noSmartcard { return true }
            if case .success(let card) = attempt { card.disconnect() }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }
}

/// The project's virtual PIV card (tools/virtual-piv/virtual_piv.py) in the virtual reader, for
/// one test: `insert` starts it with its keys in a fresh directory, `remove` takes it out.
final class VirtualCard {
    static let emulatorPath = repositoryRoot.appendingPathComponent("tools/virtual-piv/virtual_piv.py").path
    /// The card's PIN and a wrong one, distinctive enough that scripts/test can search the whole
    /// run's output for them (and their hex) and find nothing: no PIN in any log or trace.
    static let pin = "73915486"
    static let wrongPIN = "58204617"

    let directory: String
    private let process = Process()

    /// Skips the test, with the reason, where pcscd or Python's cryptography is missing.
    static func requirements() throws -> PCSCContext {
        let context: PCSCContext
        do { context = try PCSCContext() } catch { throw XCTSkip("needs pcscd running with vsmartcard-vpcd (scripts/test starts it): \(error)") }
        try XCTSkipUnless(runProgram("/usr/bin/env", ["python3", "-c", "import cryptography"]).status == 0, "needs python3 with cryptography")
        return context
    }

    /// `directory`: a previous card's, to plug the same card (keys, PIN counter) back in.
    init(_ extra: [String] = ["--no-extended"], directory reused: String? = nil) throws {
        directory = reused ?? FileManager.default.temporaryDirectory.appendingPathComponent("virtual-piv-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.emulatorPath, "--dir", directory, "--pin", Self.pin] + extra
        try process.run()
    }

    /// When the card reached the reader: the emulator writes `connected` in its directory as soon
    /// as its connection to the virtual reader is up (the file's time is that moment).
    func waitUntilConnected(seconds: Double = 10) throws -> Date {
        let marker = directory + "/connected"
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let attributes = try? FileManager.default.attributesOfItem(atPath: marker), let date = attributes[.modificationDate] as? Date {
                return date
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: marker])
    }

    /// SIGKILL: the card leaves the reader at once, whatever signal mask the emulator inherited.
    func pull() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }

    /// Pulls the card, waits until pcscd sees the reader empty, removes its files.
    func remove(_ context: PCSCContext?) {
        pull()
        if let context { _ = try? VirtualReader.waitUntilEmpty(context) }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
