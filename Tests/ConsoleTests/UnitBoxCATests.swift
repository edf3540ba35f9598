// The box's CA and the console's certificate: made once, re-issued only when needed, checked
// by openssl as an independent judge.
@testable import Console
import Foundation
import GatewayCore
import Logging
import NIOCore
import NIOEmbedded
import NIOSSL
import TestSupport
import X509
import XCTest

final class UnitBoxCATests: XCTestCase {
    var directory = ""
    let now = Date()
    let names = ServerNames(dnsNames: ["localhost", "box", "box.local"], ipAddresses: [[127, 0, 0, 1], [192, 168, 1, 20]])

    override func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("console-ca-\(UUID().uuidString)").path
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    var ca: BoxCA { BoxCA(layout: StoreLayout(dataDirectory: directory)) }

    func openssl(_ arguments: [String]) -> String {
        let result = runProgram("/usr/bin/openssl", arguments)
        XCTAssertEqual(result.status, 0, result.err)
        return result.out
    }

    func testTheCAIsMadeOnceAndIssuesForTheBoxsNames() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "needs openssl")
        XCTAssertEqual(try ca.prepare(names: names, now: now), ["ca", "server"])
        for key in [ca.caKeyPath, ca.serverKeyPath] {
            XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int, 0o600, key)
        }
        XCTAssertTrue(openssl(["verify", "-CAfile", ca.caCertificatePath, ca.serverCertificatePath]).contains(": OK"))
        let server = openssl(["x509", "-in", ca.serverCertificatePath, "-noout", "-text"])
        for name in ["DNS:localhost", "DNS:box.local", "IP Address:127.0.0.1", "IP Address:192.168.1.20", "TLS Web Server Authentication",
                     "ecdsa-with-SHA256", "prime256v1"] {
            XCTAssertTrue(server.contains(name), "\(name) in\n\(server)")
        }
        let root = openssl(["x509", "-in", ca.caCertificatePath, "-noout", "-text"])
        XCTAssertTrue(root.contains("CA:TRUE, pathlen:0"), root)
        XCTAssertTrue(root.contains("Certificate Sign"), root)
        let fingerprint = openssl(["x509", "-in", ca.caCertificatePath, "-noout", "-fingerprint", "-sha256"])
        XCTAssertTrue(fingerprint.hasSuffix("=" + (try BoxCA.fingerprints(ofPEMFile: ca.caCertificatePath).sha256) + "\n"), fingerprint)
    }

    func testTheServerCertificateIsReissuedOnlyWhenItMust() throws {
        try ca.prepare(names: names, now: now)
        let root = try BoxCA.fingerprints(ofPEMFile: ca.caCertificatePath)
        XCTAssertEqual(try ca.prepare(names: names, now: now.addingTimeInterval(86400)), [], "the same names: kept")
        var moved = names
        moved.ipAddresses = [[127, 0, 0, 1], [192, 168, 1, 21]]  // a new DHCP lease
        XCTAssertEqual(try ca.prepare(names: moved, now: now), ["server"])
        XCTAssertEqual(try ca.prepare(names: moved, now: now.addingTimeInterval(366 * 86400)), [], "a year later: still 31 days left")
        XCTAssertEqual(try ca.prepare(names: moved, now: now.addingTimeInterval(368 * 86400)), ["server"], "within 30 days of its end")
        XCTAssertEqual(try BoxCA.fingerprints(ofPEMFile: ca.caCertificatePath).sha256, root.sha256, "the CA stays: no PC installs it again")
        // A server certificate from another CA (files restored from another box) is replaced.
        let other = BoxCA(layout: StoreLayout(dataDirectory: directory + "/other"))
        try other.prepare(names: moved, now: now)
        try FileManager.default.removeItem(atPath: ca.serverCertificatePath)
        try FileManager.default.copyItem(atPath: other.serverCertificatePath, toPath: ca.serverCertificatePath)
        XCTAssertEqual(try ca.prepare(names: moved, now: now), ["server"])
    }

    /// Each handshake takes the certificate as last refreshed, without a restart of the listener.
    func testHandshakesTakeTheRefreshedCertificate() throws {
        let certificate = try ServerCertificate(ca: ca, listenHost: "127.0.0.1", logger: Logger(label: "test"))
        let callback = try XCTUnwrap(try certificate.tlsConfiguration.sslContextCallback)
        let loop = EmbeddedEventLoop()
        func served() throws -> [UInt8] {
            let promise = loop.makePromise(of: NIOSSLContextConfigurationOverride.self)
            callback(NIOSSLClientExtensionValues(serverHostname: "localhost"), promise)
            guard case .certificate(let leaf) = try promise.futureResult.wait().certificateChain?.first else { throw XCTSkip("no chain") }
            return try leaf.toDERBytes()
        }
        let before = try served()
        try certificate.refresh(now: now.addingTimeInterval(380 * 86400))
        let after = try served()
        XCTAssertNotEqual(before, after)
        let onDisk = try CertificateFile.first(inPEMFile: ca.serverCertificatePath)
        XCTAssertEqual(try Certificate(derEncoded: after), onDisk)
    }
}
