import Foundation
import TestSupport
import XCTest
@testable import TokenDriver

/// vsmartcard's virtual reader in pcscd, where test cards connect themselves.
enum VirtualReader {
    /// The first virtual reader, or the one `named` (the second, "Virtual PCD 00 01", listens on 35964).
    static func reader(_ context: PCSCContext, named: String? = nil) throws -> String {
        try XCTUnwrap(try context.readers().first { reader in named.map { reader == $0 } ?? reader.hasPrefix("Virtual PCD") }, "no virtual reader \(named ?? "") in pcscd")
    }

    /// Connects once a card is in the reader: waits for pcscd to report it (pcscd learns of a
    /// virtual card by polling vpcd, its own timer), then connects. `seconds` bounds the wait.
    static func connectWhenPresent(_ context: PCSCContext, named: String? = nil, seconds: Double = 10) throws -> PCSCCard {
        let name = try reader(context, named: named)
        var lastError: PCSCError = .noSmartcard
        let found = try waitForReader(context, named: named, seconds: seconds) { (state: UInt32) -> PCSCCard? in
            guard state & PCSCContext.ReaderState.present != 0, state & PCSCContext.ReaderState.mute == 0 else { return nil }
            // Present, but it may leave again before we connect: then wait for the next change.
            switch Result(catching: { () throws(PCSCError) -> PCSCCard in try context.connect(reader: name) }) {
            case .success(let card): return card
            case .failure(let error): lastError = error; return nil
            }
        }
        guard let found else { throw lastError }
        return found
    }

    /// Waits until pcscd sees the reader empty, so the next test starts from a clean reader.
    static func waitUntilEmpty(_ context: PCSCContext, named: String? = nil, seconds: Double = 10) throws -> Bool {
        try waitForReader(context, named: named, seconds: seconds) { $0 & PCSCContext.ReaderState.present == 0 ? true : nil } ?? false
    }

    /// Calls `check` with the virtual reader's state now and after each change pcscd reports
    /// (`SCardGetStatusChange`: no polling here), until it gives a value or `seconds` pass (nil).
    static func waitForReader<T>(_ context: PCSCContext, named: String? = nil, seconds: Double, _ check: (UInt32) throws -> T?) throws -> T? {
        var states = [PCSCContext.ReaderState(reader: try reader(context, named: named))]
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return nil }
            do { try context.waitForChange(&states, timeoutMilliseconds: UInt32(left * 1000)) } catch .timeout { return nil }
            if let value = try check(states[0].eventState) { return value }
            states[0].knownState = states[0].eventState & ~PCSCContext.ReaderState.changed
        }
    }
}

/// The project's virtual PIV card (tools/virtual-piv/virtual_piv.py) in the virtual reader, for
/// one test: `insert` starts it with its keys in a fresh directory, `remove` takes it out.
final class VirtualCard {
    static let emulatorPath = repositoryRoot.appendingPathComponent("tools/virtual-piv/virtual_piv.py").path
    /// The card's PIN and a wrong one, distinctive enough that scripts/test can search the whole
    /// run's output for them (and their hex) and find nothing: no PIN in any log or trace. From
    /// the list that search reads (scripts/lib/test-secrets.txt).
    static let pin = TestSecrets.value("pin.virtual-card")
    static let wrongPIN = TestSecrets.value("pin.virtual-card-wrong")

    let directory: String
    private let process = Process()
    /// The emulator's standard output: a line for each moment a test may wait for.
    private let output = Pipe()
    private var pendingOutput = Data()
    private var connectedAt: Date?

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
        process.standardOutput = output
        try process.run()
    }

    struct Ended: Error, CustomStringConvertible {
        let waitingFor: String
        var description: String { "the virtual card ended before saying \"\(waitingFor)\"" }
    }

    /// Blocks until the emulator prints `line`. It prints `connected` once in the reader (or
    /// gives up after its own 10 s) and `signing` when a private-key operation starts; its end
    /// (end of file) ends the wait too, with an error.
    func waitFor(line: String) throws {
        let reader = output.fileHandleForReading
        while true {
            while let newline = pendingOutput.firstIndex(of: 0x0A) {
                let next = String(decoding: pendingOutput[pendingOutput.startIndex..<newline], as: UTF8.self)
                pendingOutput.removeSubrange(pendingOutput.startIndex...newline)
                if next == line { return }
            }
            let chunk = reader.availableData
            if chunk.isEmpty { throw Ended(waitingFor: line) }
            pendingOutput.append(chunk)
        }
    }

    /// When the card reached the reader: the emulator writes `connected` in its directory as soon
    /// as its connection to the virtual reader is up (the file's time is that moment), then says so.
    func waitUntilConnected() throws -> Date {
        if let connectedAt { return connectedAt }
        try waitFor(line: "connected")
        let marker = directory + "/connected"
        let date = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: marker)[.modificationDate] as? Date)
        connectedAt = date
        return date
    }

    /// SIGKILL: the card leaves the reader at once, whatever signal mask the emulator inherited.
    func pull() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }

    /// Pulls the card, waits until pcscd sees the reader empty, removes its files.
    func remove(_ context: PCSCContext?, reader: String? = nil) {
        pull()
        if let context { _ = try? VirtualReader.waitUntilEmpty(context, named: reader) }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
