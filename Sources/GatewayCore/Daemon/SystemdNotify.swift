import Glibc

/// systemd's readiness protocol without libsystemd (`Type=notify`, issue 19): one datagram of
/// `KEY=value` lines to the socket named by `NOTIFY_SOCKET` — a path, or `@name` for an abstract
/// one. Outside systemd the variable is unset and nothing is sent.
package enum SystemdNotify {
    /// Sends `state` (e.g. "READY=1\nSTATUS=…"); false when there is no manager to tell or the
    /// datagram did not go (readiness is then systemd's timeout, never the daemon's failure).
    @discardableResult
    package static func send(_ state: String, environment name: String? = getenv("NOTIFY_SOCKET").map { String(cString: $0) }) -> Bool {
        guard let name, !name.isEmpty else { return false }
        var path = Array(name.utf8)
        let abstract = path[0] == UInt8(ascii: "@")
        if abstract { path[0] = 0 }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path)
            raw[path.count] = 0
        }
        // An abstract name's length is exact (its bytes may include anything); a path ends at its NUL.
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count + (abstract ? 0 : 1))
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), socketAddress, length) }
            }
        }
        return sent == bytes.count
    }
}
