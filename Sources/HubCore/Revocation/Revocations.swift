import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SwiftASN1
import X509

/// A revocation problem an operator can act on (a CRL that cannot be used, a CA key that does
/// not fit): Vietnamese first, English beside.
package struct RevocationError: Error, CustomStringConvertible {
    let vietnamese: String
    let english: String
    package init(_ vietnamese: String, _ english: String) { (self.vietnamese, self.english) = (vietnamese, english) }
    package var description: String { "\(vietnamese) / \(english)" }
}

/// The CRL file (`server.crl_file`) hubd enforces: read at start (an unusable file stops hubd,
/// as any other bad configuration), then read again when it changes on disk, which is looked at
/// once a second at most, from the handshakes themselves. A new file that cannot be used leaves
/// the previous list in force and says why: a half-copied or wrongly signed CRL must not
/// un-revoke every box.
package final class Revocations: Sendable {
    let path: String
    /// The CAs of `server.client_ca`: a CRL must be signed by one of them.
    let issuers: [Certificate]
    let logger: Logger
    private let state: NIOLockedValueBox<State>

    struct State {
        var lists: [RevocationList]
        var stamp: FileStamp?
        var lastLook: NIODeadline
        /// Per revoked serial, so that one box's retries cannot hide another's refusal.
        var refusalLogs: [Certificate.SerialNumber: LogThrottle] = [:]
        var staleLog = LogThrottle(interval: .seconds(3600))
    }

    /// The identity of a file's current content, as far as `stat` tells: a rename over it (the
    /// usual way to replace a CRL) changes the inode, an edit in place the time or size.
    struct FileStamp: Equatable {
        var device: UInt64, inode: UInt64, size: Int64, seconds: Int, nanoseconds: Int

        init?(path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            (device, inode, size) = (UInt64(info.st_dev), UInt64(info.st_ino), Int64(info.st_size))
            (seconds, nanoseconds) = (Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec))
        }
    }

    package init(path: String, clientCAFile: String, logger: Logger) throws {
        self.path = path
        self.logger = logger
        issuers = try Self.issuers(clientCAFile)
        let stamp = FileStamp(path: path)
        let lists = try Self.load(path, issuers: issuers)
        state = NIOLockedValueBox(State(lists: lists, stamp: stamp, lastLook: .now()))
        logger.info("CRL loaded", metadata: ["crl_file": "\(path)", "revoked": "\(lists.map(\.revoked.count).reduce(0, +))"])
    }

    static func issuers(_ clientCAFile: String) throws -> [Certificate] {
        let text = try String(contentsOfFile: clientCAFile, encoding: .utf8)
        return try PEMDocument.parseMultiple(pemString: text).map { try Certificate(pemDocument: $0) }
    }

    /// `hubd check-config`: the number of serials the CRL file revokes, or why it cannot be used.
    package static func check(crlFile: String, clientCAFile: String) throws -> Int {
        try load(crlFile, issuers: try issuers(clientCAFile)).map(\.revoked.count).reduce(0, +)
    }

    /// The lists in `path`, each signed by one of `issuers`, or why not.
    static func load(_ path: String, issuers: [Certificate]) throws -> [RevocationList] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RevocationError("Không đọc được tệp CRL \(path)", "Cannot read the CRL file \(path)")
        }
        let lists: [RevocationList]
        do { lists = try RevocationList.parseFile(Array(data)) } catch {
            throw RevocationError("Tệp CRL \(path) không đọc được (\(error))", "The CRL file \(path) cannot be read (\(error))")
        }
        for list in lists where !issuers.contains(where: list.isSigned(by:)) {
            throw RevocationError(
                "CRL trong \(path) (bên cấp \(list.issuer)) không do CA cấp chứng thư số cho hộp (server.client_ca) ký",
                "The CRL in \(path) (issuer \(list.issuer)) is not signed by the CA that issues the boxes' certificates (server.client_ca)")
        }
        return lists
    }

    /// The revocation date of `certificate`, if revoked, after reading the file again if it
    /// changed since the last look (at most once a second).
    package func revocationDate(of certificate: Certificate, now: NIODeadline = .now()) -> Date? {
        refreshIfChanged(now: now)
        let (lists, staleReport) = state.withLockedValue { state in
            let stale = state.lists.contains { ($0.nextUpdate ?? .distantFuture) < Date() }
            return (state.lists, stale ? state.staleLog.admit(now: now) : nil)
        }
        if staleReport != nil {
            // Still enforced: the serials it lists stay revoked. nginx, though, refuses every box
            // with a CRL past its nextUpdate (docs/hubd.md, "Revoking a box").
            logger.warning("CRL past its nextUpdate: write a fresh one (hubd revoke --refresh)", metadata: ["crl_file": "\(path)"])
        }
        return lists.lazy.compactMap { $0.revocationDate(of: certificate) }.first
    }

    /// One line naming the box (the agency code of its certificate's CN, the serial, the
    /// revocation date), at most one per ten seconds per certificate: a revoked box retrying
    /// must not fill the log, nor hide another's refusal.
    func logRefusal(of certificate: Certificate, revokedAt date: Date, peer: String, now: NIODeadline = .now()) {
        let report = state.withLockedValue { state in
            state.refusalLogs[certificate.serialNumber, default: LogThrottle(interval: .seconds(10))].admit(now: now)
        }
        guard let report else { return }
        logger.warning("revoked box certificate refused / chứng thư số của hộp đã bị thu hồi, từ chối kết nối", metadata: [
            "agency": "\(ClientIdentity.commonName(certificate) ?? "?")",
            "serial": "\(SerialNumberText.text(certificate.serialNumber))",
            "revoked_at": "\(date.formatted(.iso8601))",
            "peer": "\(peer)",
            "refused": "\(report)",
        ])
    }

    func refreshIfChanged(now: NIODeadline) {
        let due = state.withLockedValue { state in
            guard now - state.lastLook >= .seconds(1) else { return false }
            state.lastLook = now
            return true
        }
        guard due else { return }
        let stamp = FileStamp(path: path)
        guard stamp != state.withLockedValue({ $0.stamp }) else { return }
        do {
            let lists = try Self.load(path, issuers: issuers)
            state.withLockedValue { ($0.lists, $0.stamp) = (lists, stamp) }
            logger.info("CRL reloaded", metadata: ["crl_file": "\(path)", "revoked": "\(lists.map(\.revoked.count).reduce(0, +))"])
        } catch {
            // Remembered as seen, so the bad file is reported once, not every second; the next
            // change to it is read again.
            state.withLockedValue { $0.stamp = stamp }
            logger.error("new CRL refused, the previous one stays in force", metadata: ["crl_file": "\(path)", "error": "\(error)"])
        }
    }
}
