import Crypto
import DocumentModel
import DocumentSigning
import Foundation
import Logging
import SwiftASN1
import TestSupport
import X509
import XCTest
@testable import GatewayCore

/// The box's side of enrolment without a hub: the renewal's schedule, the request it sends, the
/// answer it accepts, the files it writes, the configuration it reads.
final class UnitBoxEnrolmentTests: XCTestCase {
    let code = AgencyCode("000.00.20.H13")!
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    // MARK: Schedule

    func testRenewalFallsAtTwoThirdsOfTheLifetimeWithinTheJitter() {
        let schedule = RenewalSchedule()
        let end = start.addingTimeInterval(300 * 86400)
        // The middle of the draw is exactly 2/3; its ends are ±5 % of the lifetime.
        XCTAssertEqual(schedule.renewalTime(notBefore: start, notAfter: end, unit: 0.5).timeIntervalSince(start), 200 * 86400, accuracy: 1)
        XCTAssertEqual(schedule.renewalTime(notBefore: start, notAfter: end, unit: 0).timeIntervalSince(start), 185 * 86400, accuracy: 1)
        XCTAssertEqual(schedule.renewalTime(notBefore: start, notAfter: end, unit: 0.999_999).timeIntervalSince(start), 215 * 86400, accuracy: 5)
        // Different draws, different times: boxes enrolled together do not come back together.
        let times = Set([0.1, 0.3, 0.7, 0.9].map { schedule.renewalTime(notBefore: start, notAfter: end, unit: $0) })
        XCTAssertEqual(times.count, 4)
        // Minutes-long certificates (the tests' hubs) scale the same way.
        XCTAssertEqual(schedule.renewalTime(notBefore: start, notAfter: start.addingTimeInterval(600), unit: 0.5).timeIntervalSince(start), 400, accuracy: 0.01)
        // The warning comes after the latest first attempt.
        XCTAssertGreaterThan(schedule.warningTime(notBefore: start, notAfter: end), schedule.renewalTime(notBefore: start, notAfter: end, unit: 0.999_999))
    }

    func testRetriesBackOffAndComeMoreOftenNearExpiry() {
        let schedule = RenewalSchedule(backoff: RetrySchedule(base: .seconds(30), cap: .seconds(3600)))
        let farEnd = start.addingTimeInterval(100 * 86400)
        // Full jitter under a ceiling that doubles: 30 s, 60 s, 120 s … capped at an hour.
        let ceilings = (1...10).map { schedule.retryTime(failures: $0, now: start, notAfter: farEnd, unit: 0.999_999).timeIntervalSince(start) }
        XCTAssertEqual(ceilings[0], 30, accuracy: 0.01)
        XCTAssertEqual(ceilings[1], 60, accuracy: 0.01)
        XCTAssertEqual(ceilings[2], 120, accuracy: 0.01)
        XCTAssertEqual(ceilings[9], 3600, accuracy: 0.01)
        XCTAssertEqual(schedule.retryTime(failures: 3, now: start, notAfter: farEnd, unit: 0.5).timeIntervalSince(start), 60, accuracy: 0.01)
        // Ten minutes left: never more than a tenth of them, and never less than a second.
        let near = start.addingTimeInterval(600)
        XCTAssertEqual(schedule.retryTime(failures: 10, now: start, notAfter: near, unit: 0.999_999).timeIntervalSince(start), 60, accuracy: 0.01)
        XCTAssertEqual(schedule.retryTime(failures: 1, now: start, notAfter: near, unit: 0).timeIntervalSince(start), 1, accuracy: 0.01)
    }

    func testStateWarnsOnFailureLatenessAndExpiry() throws {
        let end = start.addingTimeInterval(300)
        var state = RenewalState(notBefore: start, notAfter: end, nextAttemptAt: start.addingTimeInterval(200))
        XCTAssertNil(state.warning(now: start.addingTimeInterval(100)))
        XCTAssertNotNil(state.warning(now: start.addingTimeInterval(240)), "late: past the latest renewal time")
        state.lastErrorVi = "Cấp trên từ chối"
        state.lastErrorEn = "The hub refused"
        state.failures = 2
        let warning = try XCTUnwrap(state.warning(now: start.addingTimeInterval(100)))
        XCTAssertTrue(warning.contains("The hub refused") && warning.contains("2"), warning)
        XCTAssertTrue(try XCTUnwrap(state.warning(now: end)).contains("expired"))
        // The file round-trips.
        let directory = try temporaryDirectory()
        try state.save(directory + "/renewal.json")
        XCTAssertEqual(RenewalState.load(directory + "/renewal.json")?.failures, 2)
        XCTAssertEqual(RenewalState.load(directory + "/renewal.json")?.notAfter.timeIntervalSince1970 ?? 0, end.timeIntervalSince1970, accuracy: 0.001)
    }

    // MARK: Request and answer

    func testRequestHoldsTheAgencyCodeAndANewP256KeyAndVerifies() throws {
        let request = try CertificateRequest(agencyCode: code)
        let parsed = try CertificateSigningRequest(derEncoded: request.der)
        XCTAssertEqual(parsed.subject, try DistinguishedName { CommonName("000.00.20.H13") })
        XCTAssertEqual(parsed.publicKey, Certificate.PublicKey(request.key.publicKey))
        XCTAssertNotNil(P256.Signing.PublicKey(parsed.publicKey))
        XCTAssertEqual(parsed.signatureAlgorithm, .ecdsaWithSHA256)
        XCTAssertTrue(parsed.publicKey.isValidSignature(parsed.signature, for: parsed), "self-signed with the new key")
        XCTAssertEqual(Array(parsed.attributes).count, 0, "no extension asked for: the hub decides them")
        // Each request, a new key.
        XCTAssertNotEqual(try CertificateRequest(agencyCode: code).publicKey, request.publicKey)
        // The EST body is base64 in lines of 64 that decodes to the DER.
        let lines = request.estBody.split(separator: "\n")
        XCTAssertTrue(lines.dropLast().allSatisfy { $0.count == 64 })
        XCTAssertEqual(Data(base64Encoded: lines.joined()).map(Array.init), request.der)
    }

    func testCertsOnlyAnswerIsReadAndTheIssuedCertificateChecked() throws {
        let request = try CertificateRequest(agencyCode: code)
        let (ca, caKey) = try makeCA()
        let issued = try issue(ca: ca, caKey: caKey, cn: "000.00.20.H13", key: request.publicKey)
        let body = Array((Data(try CMSCertificatesOnly.encode([issued, ca])).base64EncodedString(options: .lineLength76Characters) + "\r\n").utf8)
        let chain = try CertsOnly.certificates(fromBody: body)
        XCTAssertEqual(chain, [issued, ca])
        try BoxEnrolment.check(chain, request: request, agencyCode: code, authorities: [ca], now: start.addingTimeInterval(60))

        func reason(_ chain: [Certificate], authorities: [Certificate]? = nil, now: Date? = nil) -> EnrolmentError.Reason? {
            do throws(EnrolmentError) {
                try BoxEnrolment.check(chain, request: request, agencyCode: code, authorities: authorities, now: now ?? start.addingTimeInterval(60))
                return nil
            } catch { return error.reason }
        }
        // Another key, another CN, another CA, not valid now: each refused.
        let other = try CertificateRequest(agencyCode: code)
        XCTAssertEqual(reason([try issue(ca: ca, caKey: caKey, cn: "000.00.20.H13", key: other.publicKey)]), .badAnswer)
        XCTAssertEqual(reason([try issue(ca: ca, caKey: caKey, cn: "000.00.20.H14", key: request.publicKey)]), .badAnswer)
        let (otherCA, _) = try makeCA(name: "Other CA")
        XCTAssertEqual(reason([issued], authorities: [otherCA]), .badAnswer)
        XCTAssertEqual(reason([issued], now: start.addingTimeInterval(7200)), .badAnswer)
        // Not base64, not CMS.
        XCTAssertThrowsError(try CertsOnly.certificates(fromBody: Array("<html>".utf8)))
        XCTAssertThrowsError(try CertsOnly.certificates(fromBody: Array(Data([0x30, 0x03, 0x02, 0x01, 0x01]).base64EncodedString().utf8)))
    }

    func testRefusalsSayWhatToDo() {
        let refused = ESTClient.refusal(status: 401, body: [], baseURL: "https://hub:8444")
        XCTAssertEqual(refused.reason, .tokenRefused)
        XCTAssertTrue(refused.vi.contains("mã ghi danh") && refused.en.contains("token") && refused.en.contains("gatewayd enroll"))
        XCTAssertEqual(ESTClient.refusal(status: 403, body: [], baseURL: "https://hub:8443").reason, .certificateRefused)
        XCTAssertEqual(ESTClient.refusal(status: 413, body: [], baseURL: "https://hub:8444").reason, .requestRefused)
        XCTAssertEqual(ESTClient.refusal(status: 503, body: [], baseURL: "https://hub:8444").reason, .hubUnreachable)
    }

    // MARK: Files

    func testKeyIsWrittenPrivateAndTheNewPairReplacesTheOld() throws {
        let directory = try temporaryDirectory()
        let files = BoxIdentityFiles(dataDirectory: directory)
        let (ca, caKey) = try makeCA()
        for _ in 0..<2 {
            let request = try CertificateRequest(agencyCode: code)
            let next = files.next
            try next.writeNewKey(request.key)
            try next.writeCertificate([try issue(ca: ca, caKey: caKey, cn: "000.00.20.H13", key: request.publicKey), ca])
            try files.install(from: next)
            var info = stat()
            XCTAssertEqual(stat(files.key, &info), 0)
            XCTAssertEqual(info.st_mode & 0o777, 0o600)
            let material = try BoxIdentityMaterial(files: files)
            XCTAssertEqual(material.publicKey, request.publicKey)
            XCTAssertEqual(material.chain.count, 2)
            XCTAssertFalse(FileManager.default.fileExists(atPath: next.key))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory + "/tls").sorted(), ["box.key", "box.pem"])
    }

    func testInterruptedInstallIsCompletedAtStart() throws {
        let directory = try temporaryDirectory()
        let files = BoxIdentityFiles(dataDirectory: directory)
        let (ca, caKey) = try makeCA()
        let old = try CertificateRequest(agencyCode: code)
        try files.next.writeNewKey(old.key)
        try files.next.writeCertificate([try issue(ca: ca, caKey: caKey, cn: "000.00.20.H13", key: old.publicKey)])
        try files.install(from: files.next)
        // A crash after the new key was renamed in, before its certificate was.
        let new = try CertificateRequest(agencyCode: code)
        try files.next.writeNewKey(new.key)
        try files.next.writeCertificate([try issue(ca: ca, caKey: caKey, cn: "000.00.20.H13", key: new.publicKey)])
        try POSIXFileRename(files.next.key, files.key)
        XCTAssertThrowsError(try BoxIdentityMaterial(files: files), "a key without its certificate")
        files.finishInstall()
        XCTAssertEqual(try BoxIdentityMaterial(files: files).publicKey, new.publicKey)
        // A new key whose certificate never came is dropped; the pair in use stays.
        try files.next.writeNewKey(try CertificateRequest(agencyCode: code).key)
        files.finishInstall()
        XCTAssertFalse(FileManager.default.fileExists(atPath: files.next.key))
        XCTAssertEqual(try BoxIdentityMaterial(files: files).publicKey, new.publicKey)
    }

    /// The service with its clock and draw injected: a failed attempt (the hub unreachable)
    /// leaves the pair in use untouched, keeps the error and backs off, doubling.
    func testAFailedRenewalKeepsTheCertificateRecordsTheErrorAndBacksOff() async throws {
        let directory = try temporaryDirectory()
        let files = BoxIdentityFiles(dataDirectory: directory)
        let (ca, caKey) = try makeCA()
        let request = try CertificateRequest(agencyCode: code)
        try files.next.writeNewKey(request.key)
        try files.next.writeCertificate([try issue(ca: ca, caKey: caKey, cn: "000.00.20.H13", key: request.publicKey), ca])
        try files.install(from: files.next)
        try ca.serializeAsPEM().pemString.write(toFile: directory + "/ca.pem", atomically: true, encoding: .utf8)
        var configuration = GatewayConfiguration()
        configuration.dataDirectory = directory
        configuration.agency.code = code
        let closed = "https://127.0.0.1:\(freeLoopbackPort())"
        (configuration.upstream.url, configuration.upstream.caFile, configuration.enrolment.url) = (closed, directory + "/ca.pem", closed)
        let before = try Data(contentsOf: URL(fileURLWithPath: files.certificate))

        let now = start.addingTimeInterval(60)
        let service = CertificateRenewalService(
            identity: try BoxIdentity(files: files), enrolment: try BoxEnrolment(configuration: configuration, logger: Logger(label: "test")),
            clock: .init(now: { now }, draw: { 0.5 }, sleep: { _ in }), logger: Logger(label: "test"))
        // Valid from start − 5 min to start + 10 min: 2/3 of 15 minutes after its start.
        let first = service.startingState()
        XCTAssertEqual(first.nextAttemptAt.timeIntervalSince(start), 300, accuracy: 0.01)
        let failed = await service.attempt(first)
        XCTAssertEqual(failed.failures, 1)
        XCTAssertEqual(failed.lastErrorCode, .hubUnreachable)
        XCTAssertTrue(failed.lastErrorEn?.contains("Cannot reach the hub") == true, failed.lastErrorEn ?? "")
        XCTAssertEqual(failed.nextAttemptAt.timeIntervalSince(now), 15, accuracy: 0.01, "half of the 30 s ceiling")
        let again = await service.attempt(failed)
        XCTAssertEqual(again.failures, 2)
        XCTAssertEqual(again.nextAttemptAt.timeIntervalSince(now), 30, accuracy: 0.01, "the ceiling doubled")
        XCTAssertNotNil(again.warning(now: now))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: files.certificate)), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory + "/tls").sorted(), ["box.key", "box.pem"])
    }

    /// The certificate's part of the status as Prometheus gauges, from the state file.
    func testTheRenewalStateReachesTheMetrics() throws {
        let directory = try temporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory + "/tls", withIntermediateDirectories: true)
        var state = RenewalState(notBefore: start, notAfter: start.addingTimeInterval(600), nextAttemptAt: start.addingTimeInterval(400))
        (state.failures, state.lastErrorVi, state.lastErrorEn) = (3, "Cấp trên từ chối", "The hub refused")
        try state.save(BoxIdentityFiles(dataDirectory: directory).state)
        let certificate = try XCTUnwrap(BoxCertificateStatus.read(dataDirectory: directory, now: start.addingTimeInterval(100)))
        XCTAssertEqual(certificate.lastError, "Cấp trên từ chối / The hub refused")
        let status = DaemonStatus(version: "test", pid: 1, dataDirectory: directory, startedAt: start, uptimeSeconds: 1, documentsByState: [:],
                                  freeBytes: 1, diskReserve: 0, intake: "ok", hotFolder: nil, tokens: nil, relay: nil, certificate: certificate)
        let text = String(decoding: GatewayMetrics.render(status, now: start), as: UTF8.self)
        for line in ["gatewayd_box_certificate_expiry_timestamp_seconds \(start.addingTimeInterval(600).timeIntervalSince1970)",
                     "gatewayd_box_certificate_renewal_failures 3.0", "gatewayd_box_certificate_warning 1.0"] {
            XCTAssertTrue(text.contains(line), "\(line) in\n\(text)")
        }
        XCTAssertNil(BoxCertificateStatus.read(dataDirectory: directory + "/none", now: start), "no enrolment, no certificate part")
    }

    // MARK: Configuration

    func testEnrolmentSectionDefaultsTheCertificateToTheDataDirectory() throws {
        let configuration = try ConfigurationLoader.parse("""
            data_dir = "/srv/gw"
            [agency]
            code = "000.00.20.H13"
            [upstream]
            url = "https://hub.tinh.gov.vn:8443"
            ca_file = "/etc/gatewayd/hub-ca.pem"
            [enrolment]
            url = "https://hub.tinh.gov.vn:8444/"
            token = "GW1-7K3M"
            """)
        XCTAssertEqual(configuration.enrolment.url, "https://hub.tinh.gov.vn:8444")
        XCTAssertEqual(configuration.enrolment.token, "GW1-7K3M")
        XCTAssertNil(configuration.upstream.certificateFile)
        XCTAssertEqual(configuration.resolvedUpstream.certificateFile, "/srv/gw/tls/box.pem")
        XCTAssertEqual(configuration.resolvedUpstream.keyFile, "/srv/gw/tls/box.key")
        // `--data-dir` moves them with it.
        var moved = configuration
        moved.dataDirectory = "/data"
        XCTAssertEqual(moved.resolvedUpstream.keyFile, "/data/tls/box.key")
        // Without [enrolment] the certificate and key are still required; a bad url and an
        // unknown key are refused.
        XCTAssertEqual(configurationIssues("""
            [upstream]
            url = "https://hub:8443"
            ca_file = "/etc/ca.pem"
            """).compactMap(\.key), ["upstream.certificate", "upstream.key"])
        XCTAssertEqual(configurationIssues("""
            [upstream]
            url = "https://hub:8443"
            ca_file = "/etc/ca.pem"
            [enrolment]
            url = "http://hub:8444"
            tokn = "x"
            """).compactMap(\.key).sorted(), ["enrolment.tokn", "enrolment.url", "upstream.certificate", "upstream.key"])
    }

    func testGatewayTomlKeepsTheUrlForTheDaemonAndTheTokenForTheDataDirectory() throws {
        let boot = try BootConfigurationLoader.parse("""
            [agency]
            code = "000.00.20.H13"
            [upstream]
            url = "https://hub:8443"
            ca_file = "/etc/gatewayd/hub-ca.pem"
            [enrolment]
            url = "https://hub:8444"
            token = "GW1-7K3M"
            """, path: "/run/gateway-boot/gateway.toml")
        XCTAssertEqual(boot.enrolmentToken, "GW1-7K3M")
        XCTAssertEqual(boot.daemon.enrolment.url, "https://hub:8444")
        XCTAssertNil(boot.daemon.enrolment.token)
        XCTAssertFalse(boot.daemonTOML.contains("GW1"), boot.daemonTOML)
        XCTAssertTrue(boot.daemonTOML.contains("https://hub:8444"), boot.daemonTOML)
    }

    /// image/gateway.toml.example, with its [upstream] and [enrolment] lines uncommented, is a
    /// configuration firstboot applies.
    func testTheImagesExampleEnrolsOnceUncommented() throws {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("image/gateway.toml.example"), encoding: .utf8)
        XCTAssertNoThrow(try BootConfigurationLoader.parse(text, path: "gateway.toml"))
        var lines = text.components(separatedBy: "\n")
        var section = ""
        for index in lines.indices {
            if lines[index].hasPrefix("[") { section = lines[index] }
            if ["[upstream]", "[enrolment]", "[agency]"].contains(section), lines[index].hasPrefix("# ") {
                lines[index] = String(lines[index].dropFirst(2)).replacingOccurrences(of: "\"…\"", with: "\"GW1-7K3M\"")
            }
        }
        let boot = try BootConfigurationLoader.parse(lines.joined(separator: "\n"), path: "gateway.toml")
        XCTAssertEqual(boot.enrolmentToken, "GW1-7K3M")
        XCTAssertEqual(boot.daemon.enrolment.url, "https://hub.tinh.gov.vn:8444")
        XCTAssertEqual(boot.daemon.resolvedUpstream.keyFile, "/var/lib/gatewayd/tls/box.key")
    }

    // MARK: Helpers

    func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gw-enrol-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func POSIXFileRename(_ from: String, _ to: String) throws {
        XCTAssertEqual(rename(from, to), 0)
    }

    func makeCA(name: String = "Enrolment test CA") throws -> (Certificate, P256.Signing.PrivateKey) {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName(name) }
        let ca = try Certificate(version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
                                 notValidBefore: start.addingTimeInterval(-3600), notValidAfter: start.addingTimeInterval(86400),
                                 issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
                                 extensions: try .init { Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0)) },
                                 issuerPrivateKey: .init(key))
        return (ca, key)
    }

    func issue(ca: Certificate, caKey: P256.Signing.PrivateKey, cn: String, key: Certificate.PublicKey) throws -> Certificate {
        try Certificate(version: .v3, serialNumber: .init(), publicKey: key,
                        notValidBefore: start.addingTimeInterval(-300), notValidAfter: start.addingTimeInterval(600),
                        issuer: ca.subject, subject: try DistinguishedName { CommonName(cn) }, signatureAlgorithm: .ecdsaWithSHA256,
                        extensions: try .init { try ExtendedKeyUsage([.clientAuth]) }, issuerPrivateKey: .init(caKey))
    }
}
