import DocumentModel
import Foundation
import TestSupport
import XCTest
@testable import GatewayCore

/// The issues `text` is refused with, or a test failure when it is accepted.
func configurationIssues(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [ConfigurationIssue] {
    do {
        let configuration = try ConfigurationLoader.parse(text, path: "/etc/gatewayd/gatewayd.toml")
        XCTFail("accepted: \(configuration)", file: file, line: line)
        return []
    } catch let errors as ConfigurationErrors {
        XCTAssertEqual(errors.path, "/etc/gatewayd/gatewayd.toml", file: file, line: line)
        return errors.issues
    } catch {
        XCTFail("unexpected error type \(type(of: error)): \(error)", file: file, line: line)
        return []
    }
}

/// The TOML configuration, read strictly, with every problem located for the technician.
final class UnitConfigurationLoaderTests: XCTestCase {
    private func issues(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [ConfigurationIssue] {
        configurationIssues(text, file: file, line: line)
    }

    func testEmptyTextGivesTheDefaults() throws {
        let configuration = try ConfigurationLoader.parse("")
        XCTAssertEqual(configuration, GatewayConfiguration())
        XCTAssertEqual(configuration.intake.maximumDocumentSize, 100_000_000)
        XCTAssertEqual(configuration.intake.diskReserve, 200_000_000)
        XCTAssertEqual(configuration.dataDirectory, "/var/lib/gatewayd")
        XCTAssertEqual(configuration.intake.settleDelay, .seconds(1))
        XCTAssertEqual(configuration.intake.diskRetryInterval, .seconds(30))
        XCTAssertTrue(configuration.intake.hotFolderEnabled)
        XCTAssertEqual(configuration.intake.defaultRecipients, [])
        XCTAssertNil(configuration.agency.code)
        XCTAssertNil(configuration.agency.name)
        XCTAssertNil(configuration.api.tcpAddress)
        XCTAssertNil(configuration.api.socketGroup)
        XCTAssertEqual(configuration.logLevel, "info")
        XCTAssertEqual(configuration.hotFolderPath, "/var/lib/gatewayd/outbox")
        XCTAssertEqual(configuration.socketPath, "/var/lib/gatewayd/run/gatewayd.sock")
    }

    func testCommentsOnlyGiveTheDefaults() throws {
        XCTAssertEqual(try ConfigurationLoader.parse("# gatewayd\n\n# nothing set yet\n"), GatewayConfiguration())
    }

    func testFullExampleParsesToTheRightValues() throws {
        let text = """
        # Hộp công văn — UBND xã Hòa Tiến
        data_dir = "/srv/gatewayd"

        [agency]
        code = "000.00.20.H13"
        name = "UBND xã Hòa Tiến"

        [intake]
        hot_folder = "/srv/outbox"
        hot_folder_enabled = false
        max_document_size = "50 MB"
        disk_reserve = 1073741824
        default_recipients = ["000.00.20.H14", "000.00.01.A01"]
        settle_delay = "500ms"
        disk_retry_interval = 10

        [api]
        socket = "/run/gatewayd/api.sock"
        socket_group = "vanthu"
        tcp = "127.0.0.1:8750"

        [inbox]
        folder = "/srv/vanban/đến"

        [log]
        level = "debug"
        """
        let configuration = try ConfigurationLoader.parse(text)
        XCTAssertEqual(configuration.resolvedInboxFolder, "/srv/vanban/đến")
        XCTAssertEqual(GatewayConfiguration().resolvedInboxFolder, GatewayConfiguration.defaultDataDirectory + "/inbox")
        XCTAssertEqual(configuration.dataDirectory, "/srv/gatewayd")
        XCTAssertEqual(configuration.agency.code, AgencyCode("000.00.20.H13"))
        XCTAssertEqual(configuration.agency.name, "UBND xã Hòa Tiến")
        XCTAssertEqual(configuration.intake.hotFolder, "/srv/outbox")
        XCTAssertEqual(configuration.hotFolderPath, "/srv/outbox")
        XCTAssertFalse(configuration.intake.hotFolderEnabled)
        XCTAssertEqual(configuration.intake.maximumDocumentSize, 50_000_000)
        XCTAssertEqual(configuration.intake.diskReserve, 1_073_741_824)
        XCTAssertEqual(configuration.intake.defaultRecipients, [AgencyCode("000.00.20.H14")!, AgencyCode("000.00.01.A01")!])
        XCTAssertEqual(configuration.intake.settleDelay, .milliseconds(500))
        XCTAssertEqual(configuration.intake.diskRetryInterval, .seconds(10))
        XCTAssertEqual(configuration.api.socketPath, "/run/gatewayd/api.sock")
        XCTAssertEqual(configuration.socketPath, "/run/gatewayd/api.sock")
        XCTAssertEqual(configuration.api.socketGroup, "vanthu")
        XCTAssertEqual(configuration.api.tcpAddress, "127.0.0.1:8750")
        XCTAssertEqual(configuration.logLevel, "debug")
        XCTAssertEqual(configuration.storeLimits.maximumDocumentSize, 50_000_000)
        XCTAssertEqual(configuration.storeLimits.diskReserve, 1_073_741_824)
    }

    /// The keys the reader accepts are exactly those docs/configuration.md documents: the
    /// expected list is read from the document (its "Keys" tables), not copied from the code, so a
    /// key added to the reader without its documentation, or documented but refused, fails here.
    func testTheReaderAcceptsExactlyTheDocumentedKeys() throws {
        let documented = try Self.documentedKeys()
        XCTAssertEqual(documented[""]?.contains("data_dir"), true, "the document's tables were not found: \(documented)")
        XCTAssertEqual(documented["upstream"]?.count, 12, "\(documented)")
        XCTAssertEqual(documented["signing.leaders"], ["name", "title", "identity", "signature_image"], "\(documented)")
        var expected = documented
        // A section is itself a key of the one it is in: `[signing]` of the top level,
        // `[[signing.leaders]]` of `[signing]`.
        for section in documented.keys where !section.isEmpty {
            let parts = section.split(separator: ".")
            expected[parts.dropLast().joined(separator: "."), default: []].insert(String(parts.last!))
        }
        XCTAssertEqual(ConfigurationLoader.Reader.sections, expected)
        // And the loader, not only its list: a documented key is never "unknown".
        for (section, keys) in documented where !section.isEmpty {
            for key in keys {
                // A dotted section is an array of tables in this file's grammar (`[[signing.leaders]]`).
                let header = section.contains(".") ? "[[\(section)]]" : "[\(section)]"
                let text = "\(header)\n\(key) = true\n"
                do { _ = try ConfigurationLoader.parse(text) } catch let errors as ConfigurationErrors {
                    XCTAssertFalse(errors.issues.contains { $0.message.contains("unknown key") }, "\(section).\(key): \(errors.issues)")
                }
            }
        }
    }

    /// `section → keys` from the "## Keys" part of docs/configuration.md: a "### Top level",
    /// "### `[name]` …" or "### `[[name.sub]]` …" heading, then table rows that start with a key in
    /// backquotes.
    static func documentedKeys() throws -> [String: Set<String>] {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        var keys: [String: Set<String>] = [:]
        var section: String?
        var inKeys = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("## ") { inKeys = line == "## Keys"; section = nil; continue }
            guard inKeys else { continue }
            if line.hasPrefix("### ") {
                if line == "### Top level" {
                    section = ""
                } else if let open = line.range(of: "`[["), let close = line.range(of: "]]`") {
                    section = String(line[open.upperBound..<close.lowerBound])
                } else if let open = line.range(of: "`["), let close = line.range(of: "]`") {
                    section = String(line[open.upperBound..<close.lowerBound])
                }
                continue
            }
            guard let section, line.hasPrefix("| `") else { continue }
            let key = line.dropFirst(3).prefix { $0 != "`" }
            keys[section, default: []].insert(String(key))
        }
        return keys
    }

    func testUpstreamSection() throws {
        let text = """
        [upstream]
        url = "https://hub.tinh.gov.vn:8443/"
        ca_file = "/etc/gatewayd/hub-ca.pem"
        certificate = "/etc/gatewayd/box.pem"
        key = "/etc/gatewayd/box.key"
        connect_timeout = "5s"
        idle_timeout = 90
        long_poll = "45s"
        parallel_uploads = 3
        retry_base = "1s"
        retry_cap = "15m"
        max_queue_age = "2h"
        """
        let upstream = try ConfigurationLoader.parse(text).upstream
        XCTAssertEqual(upstream.url, "https://hub.tinh.gov.vn:8443")
        XCTAssertTrue(upstream.isConfigured)
        XCTAssertEqual(upstream.caFile, "/etc/gatewayd/hub-ca.pem")
        XCTAssertEqual(upstream.certificateFile, "/etc/gatewayd/box.pem")
        XCTAssertEqual(upstream.keyFile, "/etc/gatewayd/box.key")
        XCTAssertEqual(upstream.connectTimeout, .seconds(5))
        XCTAssertEqual(upstream.idleTimeout, .seconds(90))
        XCTAssertEqual(upstream.longPoll, .seconds(45))
        XCTAssertEqual(upstream.parallelUploads, 3)
        XCTAssertEqual(GatewayConfiguration().upstream.parallelUploads, 2)
        XCTAssertEqual(upstream.retryBase, .seconds(1))
        XCTAssertEqual(upstream.retryCap, .seconds(900))
        XCTAssertEqual(upstream.maximumQueueAge, .seconds(7200))
        XCTAssertFalse(GatewayConfiguration().upstream.isConfigured, "no url: no relay")
        XCTAssertEqual(GatewayConfiguration().upstream.maximumQueueAge, .seconds(4 * 3600))
    }

    func testUpstreamRefusals() {
        let found = issues("""
        [upstream]
        url = "http://hub.tinh.gov.vn"
        certificate = "box.pem"
        hub_key_sha256 = "abc"
        long_poll = "2m"
        retry_base = "0s"
        parallel_uploads = 0
        """)
        XCTAssertEqual(found.map(\.key), ["upstream.url", "upstream.certificate", "upstream.hub_key_sha256", "upstream.retry_base",
                                          "upstream.parallel_uploads", "upstream.long_poll"])
        XCTAssertEqual(found.first?.line, 2)
        let missing = issues("""
        [upstream]
        url = "https://hub.tinh.gov.vn"
        """)
        XCTAssertEqual(missing.map(\.key), ["upstream.ca_file", "upstream.certificate", "upstream.key"])
    }

    /// Issue 16: a key pin the box cannot enforce is refused with the reason and what to do
    /// instead, even a well-formed one (an all-zero pin used to deliver all the same).
    func testHubKeyPinIsRefusedWithItsExplanation() {
        let found = issues("""
        [upstream]
        url = "https://hub.tinh.gov.vn"
        ca_file = "/etc/gatewayd/hub-ca.pem"
        certificate = "/etc/gatewayd/box.pem"
        key = "/etc/gatewayd/box.key"
        hub_key_sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
        """)
        XCTAssertEqual(found.map(\.key), ["upstream.hub_key_sha256"])
        XCTAssertTrue(found.first?.description.contains("cannot enforce") == true && found.first?.description.contains("ca_file") == true,
                      found.first?.description ?? "")
    }

    /// Issue 16: the local API has no authentication, so its TCP listener is for this box only.
    func testTheLocalAPIsTCPListenerIsLoopbackOnly() throws {
        for address in ["127.0.0.1:8750", "127.0.0.2:8750", "[::1]:8750", "localhost:8750"] {
            XCTAssertEqual(try ConfigurationLoader.parse("[api]\ntcp = \"\(address)\"").api.tcpAddress, address)
        }
        for address in ["0.0.0.0:8750", "192.168.1.10:8750", "[::]:8750", "gateway.local:8750", "127.0.0:8750"] {
            let found = issues("[api]\ntcp = \"\(address)\"")
            XCTAssertEqual(found.map(\.key), ["api.tcp"], address)
            XCTAssertTrue(found.first?.description.contains("loopback") == true, found.first?.description ?? "")
        }
    }

    func testOtherDurationAndSizeForms() throws {
        let configuration = try ConfigurationLoader.parse("""
        [intake]
        settle_delay = 2.5
        disk_retry_interval = "5m"
        max_document_size = 1048576
        disk_reserve = "1 GiB"
        """)
        XCTAssertEqual(configuration.intake.settleDelay, .milliseconds(2500))
        XCTAssertEqual(configuration.intake.diskRetryInterval, .seconds(300))
        XCTAssertEqual(configuration.intake.maximumDocumentSize, 1_048_576)
        XCTAssertEqual(configuration.intake.diskReserve, 1_073_741_824)
    }

    func testMisspeltKeyIsReportedWithItsLineAndTheRightSpelling() throws {
        let found = issues("""
        # gatewayd
        data_dir = "/var/lib/gatewayd"

        [intake]
        hot_folder_enabled = true
        max_documnet_size = "50 MB"
        """)
        XCTAssertEqual(found.count, 1, "\(found)")
        let issue = try XCTUnwrap(found.first)
        XCTAssertEqual(issue.key, "intake.max_documnet_size")
        XCTAssertEqual(issue.line, 6)
        XCTAssertEqual(issue.message, "unknown key")
        XCTAssertTrue(issue.hint?.contains("max_document_size") ?? false, "\(issue.hint ?? "no hint")")
        XCTAssertEqual(issue.hint, "did you mean \"max_document_size\"?")
    }

    func testUnknownKeyFarFromAnyKnownOneListsTheKnownKeys() throws {
        let issue = try XCTUnwrap(issues("[log]\nlevel = \"info\"\ncolour_output = true\n").first)
        XCTAssertEqual(issue.key, "log.colour_output")
        XCTAssertEqual(issue.line, 3)
        XCTAssertEqual(issue.hint, "known keys here: level")
    }

    func testUnknownTopLevelKeyAndSection() throws {
        let found = issues("data_dri = \"/srv\"\n\n[agnecy]\ncode = \"000.00.20.H13\"\n")
        XCTAssertEqual(found.map(\.key), ["agnecy", "data_dri"])
        XCTAssertEqual(found.map(\.line), [3, 1])
        XCTAssertEqual(found.first?.hint, "did you mean \"agency\"?")
        XCTAssertEqual(found.last?.hint, "did you mean \"data_dir\"?")
    }

    func testBadAgencyCodeReportsItsLine() throws {
        let found = issues("""
        data_dir = "/var/lib/gatewayd"

        [agency]
        name = "UBND xã Hòa Tiến"
        code = "000.00.20.h13"
        """)
        XCTAssertEqual(found.count, 1, "\(found)")
        let issue = try XCTUnwrap(found.first)
        XCTAssertEqual(issue.key, "agency.code")
        XCTAssertEqual(issue.line, 5)
        XCTAssertTrue(issue.message.contains("000.00.20.h13"), issue.message)
        XCTAssertTrue(issue.hint?.contains("DDD.DD.DD.XNN") ?? false)
    }

    func testInvalidTOMLReportsALine() throws {
        let found = issues("""
        [agency]
        code = "000.00.20.H13"
        name = UBND xã Hòa Tiến
        """)
        XCTAssertEqual(found.count, 1, "\(found)")
        let issue = try XCTUnwrap(found.first)
        XCTAssertEqual(issue.line, 3)
        XCTAssertNil(issue.key)
        XCTAssertTrue(issue.message.hasPrefix("not valid TOML"), issue.message)
        XCTAssertTrue(issue.hint?.contains("double quotes") ?? false)
    }

    func testInvalidTOMLLaterInTheFileReportsThatLine() throws {
        let found = issues("data_dir = \"/srv\"\n\n[intake]\nhot_folder_enabled = true\n[intake]\n")  // table defined twice
        XCTAssertEqual(found.first?.line, 5, "\(found)")
    }

    func testSeveralIssuesAreAllReportedAtOnce() {
        let found = issues("""
        data_dir = "relative/dir"
        [agency]
        code = "000.00.20.h13"
        [intake]
        max_documnet_size = 5
        disk_reserve = "lots"
        default_recipients = ["000.00.20.H13", "bad"]
        [api]
        tcp = "localhost"
        [log]
        level = "verbose"
        """)
        XCTAssertEqual(found.count, 7, found.map(\.description).joined(separator: "\n"))
        XCTAssertEqual(found.map(\.key), [
            "data_dir", "agency.code", "intake.max_documnet_size", "intake.disk_reserve",
            "intake.default_recipients", "api.tcp", "log.level",
        ])
        XCTAssertEqual(found.map(\.line), [1, 3, 5, 6, 7, 9, 11])
    }

    func testWrongTypesAreReported() {
        let found = issues("""
        data_dir = 5
        [intake]
        hot_folder_enabled = "yes"
        default_recipients = "000.00.20.H13"
        max_document_size = 0
        disk_retry_interval = 0
        [log]
        level = 3
        """)
        XCTAssertEqual(found.map(\.key), [
            "data_dir", "intake.hot_folder_enabled", "intake.max_document_size", "intake.default_recipients",
            "intake.disk_retry_interval", "log.level",
        ], found.map(\.description).joined(separator: "\n"))
        XCTAssertEqual(found.map(\.line), [1, 3, 5, 4, 6, 8])
    }

    func testSectionWrittenAsAValueIsReported() throws {
        let issue = try XCTUnwrap(issues("agency = \"000.00.20.H13\"\n").first)
        XCTAssertEqual(issue.key, "agency")
        XCTAssertEqual(issue.line, 1)
    }

    func testErrorsDescriptionNamesPathLineAndHint() {
        let errors = ConfigurationErrors(path: "/etc/gatewayd/gatewayd.toml", issues: [
            ConfigurationIssue(key: "intake.max_documnet_size", line: 6, message: "unknown key", hint: "did you mean \"max_document_size\"?"),
            ConfigurationIssue(key: nil, line: nil, message: "the file is not UTF-8 text", hint: nil),
        ])
        XCTAssertEqual(errors.description, """
        /etc/gatewayd/gatewayd.toml:6: intake.max_documnet_size: unknown key
            gợi ý / hint: did you mean "max_document_size"?
        /etc/gatewayd/gatewayd.toml:-: the file is not UTF-8 text
        """)
    }

    func testTCPAddressAndDurationText() {
        XCTAssertEqual(TCPAddress("127.0.0.1:8750")?.host, "127.0.0.1")
        XCTAssertEqual(TCPAddress("127.0.0.1:8750")?.port, 8750)
        XCTAssertEqual(TCPAddress("[::1]:8750")?.host, "::1")
        XCTAssertNil(TCPAddress("localhost"))
        XCTAssertNil(TCPAddress(":8750"))
        XCTAssertNil(TCPAddress("host:0"))
        XCTAssertNil(TCPAddress("host:65536"))
        XCTAssertEqual(DurationText.parse("500ms"), .milliseconds(500))
        XCTAssertEqual(DurationText.parse("30s"), .seconds(30))
        XCTAssertEqual(DurationText.parse("5m"), .seconds(300))
        XCTAssertEqual(DurationText.parse("2h"), .seconds(7200))
        XCTAssertEqual(DurationText.parse("1.5"), .milliseconds(1500))
        XCTAssertNil(DurationText.parse("soon"))
        XCTAssertNil(DurationText.parse("5 days"))
    }

    func testEditDistance() {
        XCTAssertEqual(editDistance("max_documnet_size", "max_document_size"), 2)
        XCTAssertEqual(editDistance("", "abc"), 3)
        XCTAssertEqual(editDistance("level", "level"), 0)
        XCTAssertEqual(editDistance("kitten", "sitting"), 3)
    }
}
