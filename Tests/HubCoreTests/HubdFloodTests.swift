import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Issue 16: 2,000 bare TCP connections to hubd from another address (127.0.0.2) that never
/// start their TLS handshake. The hub keeps at most 16 of them per address (`limits.
/// max_pending_handshakes_per_address`), closes the rest at once and those 16 after the handshake
/// timeout, logs the refusals on one line rather than 2,000 — and a box on 127.0.0.1 is served
/// meanwhile.
extension HubdTests {
    func testTwoThousandBareConnectionsFromOneAddressDoNotShutOutABox() throws {
        let pid = hub.process.processIdentifier
        func descriptors() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1 }
        let before = descriptors()
        var flood: [Int32] = []
        defer { for fd in flood { close(fd) } }
        for _ in 0..<2000 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { break }
            var source = sockaddr_in()
            source.sin_family = sa_family_t(AF_INET)
            source.sin_addr.s_addr = inet_addr("127.0.0.2")
            var target = sockaddr_in()
            target.sin_family = sa_family_t(AF_INET)
            target.sin_port = in_port_t(UInt16(hub.port).bigEndian)
            target.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &source) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            let connected = bound == 0 && withUnsafePointer(to: &target) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } == 0
            if connected { flood.append(fd) } else { close(fd) }
        }
        XCTAssertGreaterThan(flood.count, 1000, "the flood connected")

        // A box is served while the flood holds its connections.
        let served = hub.curl(["/v1/directory"])
        XCTAssertEqual(served.http, 200, served.err)

        // The hub holds at most the per-address limit's worth of the flood, closing the others as
        // it accepts them (the flood is past the limit once the refusal is logged).
        XCTAssertTrue(waitUntil(changesIn: hub.directory, timeout: .seconds(30)) {
            ((try? String(contentsOfFile: hub.log, encoding: .utf8)) ?? "").contains("connections refused before their TLS handshake")
        })
        let during = descriptors()
        XCTAssertLessThan(during - before, 16 + 16, "descriptors before \(before), during \(during)")

        // Those it kept are closed once the handshake timeout passes: every flood socket reads EOF.
        var open = flood.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let deadline = Date().addingTimeInterval(30)
        var ended = 0
        while Date() < deadline {
            _ = poll(&open, nfds_t(open.count), 1000)
            ended = open.filter { $0.revents != 0 }.count
            if ended == open.count { break }
        }
        XCTAssertEqual(ended, flood.count, "a connection that never shook hands was kept past the timeout")

        // Refusals are logged on one line per ten seconds, not one per connection.
        let log = (try? String(contentsOfFile: hub.log, encoding: .utf8)) ?? ""
        let lines = log.components(separatedBy: "connections refused before their TLS handshake").count - 1
        XCTAssertTrue((1...4).contains(lines), "\(lines) refusal lines")
        XCTAssertEqual(hub.curl(["/v1/directory"]).http, 200)
    }
}
