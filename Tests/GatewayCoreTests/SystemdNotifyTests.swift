import Foundation
import GatewayCore
import Glibc
import Logging
import Synchronization
import TestSupport
import XCTest

/// Issue 19: gatewayd.service is Type=notify; the daemon tells systemd READY over NOTIFY_SOCKET
/// itself (no libsystemd). A datagram socket stands in for systemd here.
final class SystemdNotifyTests: XCTestCase {
    /// A bound datagram socket (a path, or an abstract name when `abstract`) and its name as
    /// NOTIFY_SOCKET spells it.
    func listener(abstract: Bool) throws -> (fd: Int32, name: String) {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let name = abstract ? "@gateway-notify-test-\(getpid())"
            : FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(getpid()).sock").path
        if !abstract { unlink(name) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(name.utf8)
        if abstract { path[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count + (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        XCTAssertEqual(bound, 0, String(cString: strerror(errno)))
        return (fd, name)
    }

    func received(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)  // the datagram is already queued: no wait
        return String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self)
    }

    func testReadyReachesAPathSocket() throws {
        let (fd, name) = try listener(abstract: false)
        defer { close(fd); unlink(name) }
        XCTAssertTrue(SystemdNotify.send("READY=1\nSTATUS=sẵn sàng", environment: name))
        XCTAssertEqual(received(fd), "READY=1\nSTATUS=sẵn sàng")
    }

    func testReadyReachesAnAbstractSocket() throws {
        let (fd, name) = try listener(abstract: true)
        defer { close(fd) }
        XCTAssertTrue(SystemdNotify.send("READY=1", environment: name))
        XCTAssertEqual(received(fd), "READY=1")
    }

    /// The real daemon under a stand-in systemd: READY with the queue as its status, then the
    /// watchdog's pings at half of WATCHDOG_USEC. Waits for the datagrams (each receive bounded).
    func testTheDaemonTellsReadyAndPingsTheWatchdog() async throws {
        let (fd, name) = try listener(abstract: false)
        defer { close(fd); unlink(name) }
        var limit = timeval(tv_sec: 120, tv_usec: 0)  // a bound for a loaded machine, not a wait
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let daemon = try RunningDaemon(environment: ["NOTIFY_SOCKET": name, "WATCHDOG_USEC": "400000"])
        defer { daemon.stop() }
        var (ready, pings) = ("", 0)
        while ready.isEmpty || pings < 2 {
            let message = received(fd)
            XCTAssertFalse(message.isEmpty, "no datagram from gatewayd within the bound")
            if message.isEmpty { return }
            if message.hasPrefix("READY=1") { ready = message }
            if message.hasPrefix("WATCHDOG=1") { pings += 1 }
        }
        XCTAssertEqual(ready, "READY=1\nSTATUS=" + SystemdWatchdog.statusLine([:]))
    }

    func testOutsideSystemdNothingIsSent() {
        XCTAssertFalse(SystemdNotify.send("READY=1", environment: nil))
        XCTAssertFalse(SystemdNotify.send("READY=1", environment: ""))
    }
}

/// The watchdog: pings only after the store answered, with the queue as STATUS, at half of
/// systemd's interval, and only when systemd asked this process.
final class SystemdWatchdogTests: XCTestCase {
    func testTheIntervalIsHalfOfSystemdsAndOnlyForThisProcess() {
        XCTAssertEqual(SystemdWatchdog.interval(environment: ["WATCHDOG_USEC": "60000000"], pid: 42), .seconds(30))
        XCTAssertEqual(SystemdWatchdog.interval(environment: ["WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "42"], pid: 42), .seconds(30))
        XCTAssertNil(SystemdWatchdog.interval(environment: ["WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "7"], pid: 42))
        XCTAssertNil(SystemdWatchdog.interval(environment: [:], pid: 42))
        XCTAssertNil(SystemdWatchdog.interval(environment: ["WATCHDOG_USEC": "0"], pid: 42))
    }

    func testTheStatusLineSaysWhatWaitsInBothLanguages() {
        let line = SystemdWatchdog.statusLine([.awaitingLeader: 2, .awaitingSeal: 1, .signed: 1, .queued: 3, .sending: 1, .quarantined: 1, .delivered: 90])
        XCTAssertEqual(line, "chờ ký 2 · chờ đóng dấu 1 · chờ gửi 4 · đang gửi 1 · bị từ chối/cách ly 1"
                           + " / awaiting signature 2 · awaiting seal 1 · to send 4 · sending 1 · rejected/quarantined 1")
    }

    /// A store that answers gets pings; one that fails gets none, and the pings resume when it
    /// answers again. One ordered log of probes and pings; waits for events, not for time.
    func testAPingFollowsOnlyAnAnsweringStore() async throws {
        struct Silent: Error {}
        let answering = Mutex(true)
        let (events, log) = AsyncStream.makeStream(of: String.self)
        let status = SystemdWatchdog.statusLine([.queued: 1])
        let watchdog = SystemdWatchdog(interval: .milliseconds(5), probe: {
            let answers = answering.withLock { $0 }
            log.yield(answers ? "answered" : "silent")
            guard answers else { throw Silent() }
            return status
        }, send: { log.yield($0); return true }, logger: Logger(label: "test"))
        let task = Task { try await watchdog.run() }
        defer { task.cancel() }
        var seen: [String] = []
        var iterator = events.makeAsyncIterator()
        func until(_ done: ([String]) -> Bool) async {
            while !done(seen), let event = await iterator.next() { seen.append(event) }
        }
        let ping = "WATCHDOG=1\nSTATUS=" + status
        await until { $0.contains(ping) }
        answering.withLock { $0 = false }
        await until { $0.filter { $0 == "silent" }.count >= 3 }
        answering.withLock { $0 = true }
        await until { events in events.lastIndex(of: ping).map { last in events[..<last].contains("silent") } ?? false }
        // Each ping right after an answered probe; none after a silent one.
        for (index, event) in seen.enumerated() where event == ping {
            XCTAssertEqual(seen[index - 1], "answered", "\(seen)")
        }
        XCTAssertTrue(zip(seen, seen.dropFirst()).allSatisfy { !($0 == "silent" && $1 == ping) }, "\(seen)")
    }
}
