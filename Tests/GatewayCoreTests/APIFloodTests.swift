import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Issue 16: 2,000 half-sent requests on the local API's socket. The daemon serves at most
/// `[api] max_connections` at once (the rest wait in the kernel's backlog), so it keeps its file
/// descriptors for the store and the hot folder, which goes on taking documents; a half-sent
/// request is closed after `idle_timeout`; once the flood ends, the API answers again.
final class APIFloodTests: XCTestCase {
    func testTwoThousandHalfSentRequestsNeitherStarveTheHotFolderNorOutliveTheirTimeout() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: RunningDaemon.binary), "needs .build/debug/gatewayd")
        let daemon = try RunningDaemon(config: """
            [intake]
            disk_reserve = 0
            settle_delay = "50ms"
            default_recipients = ["000.00.20.H13"]

            [api]
            max_connections = 32
            idle_timeout = "2s"
            """)
        defer { daemon.stop() }
        try await daemon.waitUntilReady()
        let pid = daemon.process.processIdentifier
        func descriptors() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1 }
        let before = descriptors()

        var flood: [Int32] = []
        defer { for fd in flood { close(fd) } }
        let half = Array("POST /v1/documents HTTP/1.1\r\nHost: gateway\r\nContent-Length: 1000\r\n".utf8)
        for _ in 0..<2000 {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard fd >= 0 else { break }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                let bytes = Array(daemon.socket.utf8)
                raw.copyBytes(from: bytes.prefix(raw.count - 1))
            }
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if connected != 0 { close(fd); continue }  // the backlog is full: refused, as it should be
            _ = half.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            flood.append(fd)
        }
        XCTAssertGreaterThan(flood.count, 32, "the flood reached past the cap")

        // The daemon holds at most the cap's worth of them.
        let during = descriptors()
        XCTAssertLessThan(during - before, 32 + 16, "descriptors before \(before), during \(during)")

        // The hot folder still takes a document.
        let outbox = daemon.dataDirectory + "/outbox"
        try Data(SamplePDF.bytes("Giay moi")).write(to: URL(fileURLWithPath: outbox + "/Giấy mời.pdf"))
        XCTAssertTrue(waitUntil(changesIn: outbox, timeout: .seconds(30)) { !FileManager.default.fileExists(atPath: outbox + "/Giấy mời.pdf") },
                      "the hot folder did not take the file during the flood")

        // A half-sent request is closed by the daemon after idle_timeout: one of the accepted
        // ones (the first) reads end-of-file.
        let first = flood[0]
        var descriptor = pollfd(fd: first, events: Int16(POLLIN), revents: 0)
        XCTAssertEqual(poll(&descriptor, 1, 20_000), 1, "the half-sent request was not closed")
        var byte: UInt8 = 0
        XCTAssertLessThanOrEqual(recv(first, &byte, 1, 0), 0, "closed, not answered")

        // The flood ends: the API answers again.
        for fd in flood { close(fd) }
        flood = []
        // The kernel's backlog still holds flood connections the daemon has yet to accept and
        // drop; a connection attempt meanwhile is refused (EAGAIN on a full Unix-socket backlog),
        // so the condition is checked again until the backlog drains, within a bound.
        let deadline = ContinuousClock.now + .seconds(60)
        var status = daemon.curl([], path: "/v1/status")
        while status.http != 200, ContinuousClock.now < deadline { status = daemon.curl([], path: "/v1/status") }
        XCTAssertEqual(status.http, 200, status.body)
        let listed = daemon.cli(["queue", "list", "--json"]).out
        XCTAssertTrue(listed.contains("Giấy mời.pdf"), listed)
    }
}
