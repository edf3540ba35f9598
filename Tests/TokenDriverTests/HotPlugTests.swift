import Foundation
import TestSupport
import XCTest
@testable import TokenDriver
@testable import TokenHotPlug

/// Hot-plug through the real pcscd and vsmartcard's virtual reader: the monitor's events, and a
/// running `gatewayd serve` seeing tokens come and go and surviving pcscd being restarted.
final class HotPlugTests: XCTestCase {
    var context: PCSCContext!
    var cards: [VirtualCard] = []

    override func setUp() async throws {
        context = try VirtualCard.requirements()
    }

    override func tearDown() async throws {
        // A fresh context: the test may have restarted pcscd, which voids the old one.
        let current = try? PCSCContext()
        for card in cards { card.remove(current) }
    }

    func insert() throws -> VirtualCard {
        let card = try VirtualCard()
        cards.append(card)
        return card
    }

    func testMonitorReportsEachInsertionAndRemovalOnce() async throws {
        let events = EventLog<ReaderEvent>()
        let task = Task { for await event in ReaderMonitor.events() { events.append(event) } }
        defer { task.cancel() }
        let reader = try VirtualReader.reader(context)
        _ = try await events.first(within: 5) { $0 == .readerAdded(reader) }
        var since = Date()
        for _ in 0..<2 {
            let card = try insert()
            let inserted = try await events.first(within: 10, after: since) { if case .cardInserted(reader, _) = $0 { true } else { false } }
            guard case .cardInserted(_, let atr) = inserted.value else { return XCTFail() }
            XCTAssertEqual(atr.first, 0x3B, "the event carries the card's ATR")
            // How soon is a figure, not a condition (a loaded machine takes longer): printed, not asserted.
            print("hot-plug: insertion seen after \(inserted.at.timeIntervalSince(try card.waitUntilConnected())) s")
            let pulled = Date()
            card.pull()
            let removed = try await events.first(within: 5, after: pulled) { $0 == .cardRemoved(reader: reader) }
            print("hot-plug: removal seen after \(removed.at.timeIntervalSince(pulled)) s")
            since = removed.at
        }
        // A third insertion closes the count instead of a wait for duplicates: the monitor reports
        // from one thread, in order, so a duplicate of the events above would come before it.
        _ = try insert()
        _ = try await events.first(within: 10, after: since) { if case .cardInserted(reader, _) = $0 { true } else { false } }
        let log = events.values.filter { if case .cardInserted(reader, _) = $0 { true } else { $0 == .cardRemoved(reader: reader) } }
        XCTAssertEqual(log.count, 5, "two insertions and two removals, each once, then the closing insertion: \(log)")
    }

    /// The daemon, with its stderr log read as an operator would: tokens inserted and removed
    /// within a second, and pcscd stopped and started again under it.
    func testRunningDaemonFollowsTokensAndSurvivesPCSCDRestart() async throws {
        let daemon = try LoggedDaemon()
        defer { daemon.stop() }
        let reader = try VirtualReader.reader(context)
        _ = try await daemon.log.first(within: 10) { $0.contains("local API listening") }
        let first = try insert()
        _ = try await daemon.log.first(within: 10) { $0.contains("token identified") && $0.contains("reader=\(reader)") && $0.contains("Nguyễn Văn An") }
        let status = runProgram(LoggedDaemon.binary, ["status", "--json", "--data-dir", daemon.dataDirectory])
        XCTAssertEqual(status.status, 0, status.err)
        XCTAssertTrue(status.out.contains("\"pcscd\":\"ok\"") && status.out.contains("Nguyễn Văn An"), status.out)

        var pulled = Date()
        first.pull()
        var line = try await daemon.log.first(within: 5) { $0.contains("token removed") }
        XCTAssertLessThan(line.at.timeIntervalSince(pulled), 1.0, "removal seen within a second")
        let second = try insert()
        let connected = try second.waitUntilConnected()
        line = try await daemon.log.first(within: 5, after: line.at) { $0.contains("token inserted") }
        XCTAssertLessThan(line.at.timeIntervalSince(connected), 1.0, "re-insertion seen within a second of the card reaching the reader")

        guard getuid() == 0 else { throw XCTSkip("restarting pcscd needs root (CI runs as root)") }
        pulled = Date()
        let pcscd = runProgram("/usr/bin/pgrep", ["-x", "pcscd"]).out.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(runProgram("/usr/bin/pkill", ["-x", "pcscd"]).status, 0)
        _ = try await daemon.log.first(within: 10) { $0.contains("pcscd unavailable") }
        // start-pcscd starts nothing while the old pcscd is still shutting down: wait for its exit
        // (a pidfd, readable when the process ends; not our child, so no waitpid).
        // pgrep may list several (another session's private pcscd, killed alike): wait for each.
        let exited = runProgram("/usr/bin/env", ["python3", "-c", """
            import os, select, sys, time
            deadline = time.monotonic() + 10
            for pid in sys.argv[1].split():
                try: fd = os.pidfd_open(int(pid))
                except ProcessLookupError: continue
                if not select.select([fd], [], [], max(0, deadline - time.monotonic()))[0]: sys.exit(1)
            """, pcscd])
        XCTAssertEqual(exited.status, 0, "pcscd (\(pcscd)) did not exit within 10 s: \(exited.err)")
        // Exited, it may stay listed (a zombie) until init reaps it; start-pcscd counts only a live pcscd.
        XCTAssertEqual(spawnAndWait("/bin/bash", [repositoryRoot.appendingPathComponent("scripts/start-pcscd").path]), 0, "pcscd started again")
        _ = try await daemon.log.first(within: 15) { $0.contains("pcscd available again") }
        XCTAssertTrue(daemon.process.isRunning, "the daemon kept running")
        // The card's connection died with pcscd; a card inserted now is found by the same daemon.
        second.pull()
        _ = try await daemon.log.first(within: 10, after: pulled) { $0.contains("reader connected") && $0.contains(reader) }
        let third = try insert()
        _ = try third.waitUntilConnected()
        _ = try await daemon.log.first(within: 10, after: pulled) { $0.contains("token identified") }
        XCTAssertEqual(runProgram(LoggedDaemon.binary, ["status", "--data-dir", daemon.dataDirectory]).status, 0)
    }
}

extension HotPlugTests {
    /// The card pulled out while it computes a signature (a slow token: 1.5 s per signature): the
    /// signing command fails with a clear message, and the running daemon notes the removal and
    /// keeps running.
    func testCardRemovedInTheMiddleOfASignature() async throws {
        let daemon = try LoggedDaemon()
        defer { daemon.stop() }
        _ = try await daemon.log.first(within: 10) { $0.contains("local API listening") }
        let card = try VirtualCard(["--sign-delay-ms", "1500"])
        cards.append(card)
        _ = try await daemon.log.first(within: 10) { $0.contains("token identified") }
        let file = card.directory + "/quyết định.txt"
        try "Quyết định".write(toFile: file, atomically: true, encoding: .utf8)
        try (VirtualCard.pin + "\n").write(toFile: card.directory + "/pin", atomically: true, encoding: .utf8)

        let signing = Process()
        signing.executableURL = URL(fileURLWithPath: LoggedDaemon.binary)
        signing.arguments = ["token", "sign", "--slot", "9c", "--in", file, "--out", card.directory + "/sig", "--pin-file", card.directory + "/pin"]
        let errors = Pipe()
        signing.standardError = errors
        signing.standardOutput = FileHandle.nullDevice
        try signing.run()
        try card.waitFor(line: "signing")  // SELECT, VERIFY done; the card is computing
        card.pull()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        signing.waitUntilExit()
        XCTAssertEqual(signing.terminationStatus, 1, message)
        XCTAssertTrue(message.contains("token was removed") || message.contains("transaction with the token failed"), message)
        XCTAssertFalse(FileManager.default.fileExists(atPath: card.directory + "/sig"), "no signature file from a failed signature")
        _ = try await daemon.log.first(within: 5) { $0.contains("token removed") }
        XCTAssertTrue(daemon.process.isRunning, "the daemon keeps running")
        XCTAssertEqual(runProgram(LoggedDaemon.binary, ["status", "--data-dir", daemon.dataDirectory]).status, 0)
    }
}

/// Values with the time they arrived, for waiting on them: a waiter is woken by the value it
/// waits for, not by a clock.
final class EventLog<Value: Sendable>: @unchecked Sendable {
    struct Timeout: Error, CustomStringConvertible {
        let seconds: Double
        let seen: String
        var description: String { "nothing matched within \(seconds) s; seen: \(seen)" }
    }

    private typealias Entry = (value: Value, at: Date)
    private struct Waiter {
        let matches: (Entry) -> Bool
        let continuation: CheckedContinuation<Entry, any Error>
    }

    private let lock = NSLock()
    private var entries: [Entry] = []
    private var waiters: [UUID: Waiter] = [:]

    func append(_ value: Value) {
        let entry = (value: value, at: Date())
        let woken = lock.withLock {
            entries.append(entry)
            let matched = waiters.filter { $0.value.matches(entry) }
            for id in matched.keys { waiters[id] = nil }
            return matched.values
        }
        for waiter in woken { waiter.continuation.resume(returning: entry) }
    }

    var values: [Value] {
        lock.withLock { entries.map(\.value) }
    }

    /// The first entry that arrived after `after` and matches, waiting up to `seconds` for it.
    func first(within seconds: Double, after: Date = .distantPast, _ matches: @escaping (Value) -> Bool) async throws -> (value: Value, at: Date) {
        let id = UUID()
        let matching: (Entry) -> Bool = { $0.at > after && matches($0.value) }
        return try await withCheckedThrowingContinuation { continuation in
            let found: Entry? = lock.withLock {
                if let found = entries.first(where: matching) { return found }
                waiters[id] = Waiter(matches: matching, continuation: continuation)
                return nil
            }
            if let found { return continuation.resume(returning: found) }
            // The bound on the wait, not the wait itself: it fails a waiter still waiting then.
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in
                guard let waiter = lock.withLock({ waiters.removeValue(forKey: id) }) else { return }
                waiter.continuation.resume(throwing: Timeout(seconds: seconds, seen: values.map { "\($0)" }.joined(separator: "\n")))
            }
        }
    }
}

/// `gatewayd serve` in a fresh data directory, its log (standard error) read line by line as it
/// is written, each line stamped with the time it arrived.
final class LoggedDaemon {
    static var binary: String { repositoryRoot.appendingPathComponent(".build/debug/gatewayd").path }

    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gw-hotplug-\(UUID().uuidString)").path
    var dataDirectory: String { directory + "/data" }
    let process = Process()
    let log = EventLog<String>()

    /// `config`: the text of a gatewayd.toml to serve with (written in the directory).
    init(config: String? = nil) throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.binary), "needs .build/debug/gatewayd")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["serve", "--data-dir", dataDirectory]
        if let config {
            try config.write(toFile: directory + "/gatewayd.toml", atomically: true, encoding: .utf8)
            process.arguments! += ["--config", directory + "/gatewayd.toml"]
        }
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        let log = log
        let reader = pipe.fileHandleForReading
        Thread.detachNewThread {
            var pending = Data()
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 0x0A) {
                    log.append(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                    pending.removeSubrange(pending.startIndex...newline)
                }
            }
        }
        try process.run()
    }

    func stop() {
        if process.isRunning { process.terminate(); process.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
