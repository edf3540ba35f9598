import Foundation
import GatewayCore
import Glibc
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

    func testOutsideSystemdNothingIsSent() {
        XCTAssertFalse(SystemdNotify.send("READY=1", environment: nil))
        XCTAssertFalse(SystemdNotify.send("READY=1", environment: ""))
    }
}
