import DocumentModel
import Foundation
import SigningPolicy
import TestSupport
import XCTest
@testable import GatewayCore

/// `[agency] tax_code / budget_code`, `[signing]` and `[[signing.leaders]]` (issue 13): every key's
/// good values, and each refusal with its line, its message and its hint.
final class UnitSigningConfigurationTests: XCTestCase {
    private func issues(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [ConfigurationIssue] {
        configurationIssues(text, file: file, line: line)
    }

    /// The one issue `text` is refused with.
    private func issue(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> ConfigurationIssue {
        let found = issues(text, file: file, line: line)
        XCTAssertEqual(found.count, 1, found.map(\.description).joined(separator: "\n"), file: file, line: line)
        return try XCTUnwrap(found.first, file: file, line: line)
    }

    private let leader = """
        [[signing.leaders]]
        name = "Nguyễn Văn An"
        title = "CHỦ TỊCH"
        identity = "CCCD:001085012345"
        """

    // MARK: [trust]

    func testTrustAnchorsAndRevocation() throws {
        XCTAssertEqual(try ConfigurationLoader.parse("").trust, GatewayConfiguration.Trust(anchors: [], checkRevocation: true))
        let trust = try ConfigurationLoader.parse("[trust]\nanchors = [\"/etc/gatewayd/trust/a.pem\", \"/etc/gatewayd/trust/b.pem\"]\ncheck_revocation = false\n").trust
        XCTAssertEqual(trust.anchors, ["/etc/gatewayd/trust/a.pem", "/etc/gatewayd/trust/b.pem"])
        XCTAssertFalse(trust.checkRevocation)
        XCTAssertEqual(try issue("[trust]\nanchors = [\"trust/a.pem\"]\n").key, "trust.anchors")
        XCTAssertEqual(try issue("[trust]\nanchors = \"/etc/a.pem\"\n").key, "trust.anchors")
        XCTAssertEqual(try issue("[trust]\nanchor = []\n").key, "trust.anchor")
        XCTAssertEqual(try ConfigurationLoader.parse("[trust]\nrecheck_interval = \"5m\"\n").trust.recheckInterval, .seconds(300))
        XCTAssertEqual(try ConfigurationLoader.parse("").trust.recheckInterval, .seconds(3600), "hourly unless told")
        XCTAssertEqual(try issue("[trust]\nrecheck_interval = 0\n").key, "trust.recheck_interval")
        XCTAssertEqual(try issue("[trust]\nrecheck_interval = \"soon\"\n").key, "trust.recheck_interval")
    }

    // MARK: Defaults and good values

    func testDefaults() throws {
        let signing = try ConfigurationLoader.parse("").signing
        XCTAssertEqual(signing, GatewayConfiguration.Signing())
        XCTAssertEqual(signing.defaultSignatures, [.leader, .organization])
        XCTAssertEqual(signing.numbering, .single)
        XCTAssertEqual(signing.clock, .requireSynchronised)
        XCTAssertFalse(signing.requireRevocation)
        XCTAssertEqual(signing.sessionTimeout, .seconds(300))
        XCTAssertNil(signing.sealImage)
        XCTAssertNil(signing.sealWidthMillimetres)
        XCTAssertEqual(signing.font, "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf")
        XCTAssertNil(signing.timestampURL)
        XCTAssertNil(signing.defaultNotation)
        XCTAssertNil(signing.place)
        XCTAssertEqual(signing.leaders, [])
        XCTAssertEqual(try ConfigurationLoader.parse("[signing]\n").signing, GatewayConfiguration.Signing(), "an empty section is the defaults")
        XCTAssertEqual(GatewayConfiguration().signingAgency, SigningAgency())
    }

    func testEveryKeyWithAGoodValue() throws {
        let configuration = try ConfigurationLoader.parse("""
        [agency]
        code = "000.00.20.H13"
        name = "UBND xã Hòa Tiến"
        tax_code = "0401234567"
        budget_code = "1234567"

        [signing]
        signatures = ["organization"]
        numbering = "per_notation"
        clock = "trust_local_clock"
        require_revocation = true
        session_timeout = "2m"
        seal_image = "/etc/gatewayd/dấu.png"
        seal_width_mm = 36.5
        font = "/usr/local/share/fonts/TimesNewRoman.ttf"
        tsa_url = "https://tsa.example.vn/tsr"
        default_notation = " QĐ-UBND "
        place = "Hòa Tiến"

        [[signing.leaders]]
        name = "Nguyễn Văn An"
        title = "CHỦ TỊCH"
        identity = "CCCD:001085012345"
        signature_image = "/etc/gatewayd/chu-tich.png"

        [[signing.leaders]]
        name = " Trần Thị Bình "
        title = "KT. CHỦ TỊCH\\nPHÓ CHỦ TỊCH"
        identity = "cmnd : 201234567"
        """)
        let signing = configuration.signing
        XCTAssertEqual(signing.defaultSignatures, [.organization])
        XCTAssertEqual(signing.numbering, .perNotation)
        XCTAssertEqual(signing.clock, .trustLocalClock)
        XCTAssertTrue(signing.requireRevocation)
        XCTAssertEqual(signing.sessionTimeout, .seconds(120))
        XCTAssertEqual(signing.sealImage, "/etc/gatewayd/dấu.png")
        XCTAssertEqual(signing.sealWidthMillimetres, 36.5)
        XCTAssertEqual(signing.font, "/usr/local/share/fonts/TimesNewRoman.ttf")
        XCTAssertEqual(signing.timestampURL, "https://tsa.example.vn/tsr")
        XCTAssertEqual(signing.defaultNotation, "QĐ-UBND")
        XCTAssertEqual(signing.place, "Hòa Tiến")
        XCTAssertEqual(signing.leaders, [
            ConfiguredLeader(name: "Nguyễn Văn An", title: "CHỦ TỊCH", identity: SubjectIdentifier("CCCD:001085012345")!,
                             signatureImage: "/etc/gatewayd/chu-tich.png"),
            ConfiguredLeader(name: "Trần Thị Bình", title: "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH",
                             identity: SubjectIdentifier(kind: .cmnd, value: "201234567")!),
        ])
        XCTAssertEqual(configuration.signingAgency, SigningAgency(code: AgencyCode("000.00.20.H13"), name: "UBND xã Hòa Tiến",
                                                                  taxCode: "0401234567", budgetCode: "1234567"))
    }

    func testOtherGoodForms() throws {
        let configuration = try ConfigurationLoader.parse("""
        [agency]
        tax_code = "0401234567-001"

        [signing]
        signatures = ["organization", "leader"]
        numbering = "single"
        clock = "require_synchronised"
        session_timeout = 300
        seal_width_mm = 10
        tsa_url = "http://tsa.example.vn"
        default_notation = "\(String(repeating: "Đ", count: 30))"
        leaders = [{ name = "Nguyễn Văn An", title = "CHỦ TỊCH", identity = "HC:C1234567" }]
        """)
        XCTAssertEqual(configuration.agency.taxCode, "0401234567-001")
        XCTAssertNil(configuration.agency.budgetCode)
        XCTAssertEqual(configuration.signing.defaultSignatures, [.leader, .organization], "signing order, whatever the list's order")
        XCTAssertEqual(configuration.signing.sessionTimeout, .seconds(300), "5 minutes is the limit, allowed")
        XCTAssertEqual(configuration.signing.sealWidthMillimetres, 10)
        XCTAssertEqual(configuration.signing.timestampURL, "http://tsa.example.vn")
        XCTAssertEqual(configuration.signing.defaultNotation?.count, 30)
        XCTAssertEqual(configuration.signing.leaders.map(\.identity), [SubjectIdentifier(kind: .passport, value: "C1234567")!],
                       "inline tables are the same array of tables")
        XCTAssertEqual(try ConfigurationLoader.parse("[signing]\nseal_width_mm = 100\n").signing.sealWidthMillimetres, 100)
        XCTAssertEqual(try ConfigurationLoader.parse("[agency]\nbudget_code = \" 1234567 \"\n").agency.budgetCode, "1234567")
    }

    // MARK: [agency]

    func testAgencyCodesRefused() {
        let found = issues("""
        [agency]
        tax_code = "MST:0401234567"
        budget_code = "123456"
        """)
        XCTAssertEqual(found.map(\.key), ["agency.tax_code", "agency.budget_code"])
        XCTAssertEqual(found.map(\.line), [2, 3])
        XCTAssertEqual(found.first?.message, "\"MST:0401234567\" không phải mã số thuế / is not a tax code (MST)")
        XCTAssertTrue(found.first?.hint?.contains("without \"MST:\"") ?? false)
        XCTAssertEqual(found.last?.message, "\"123456\" không phải mã ĐVQHNS / is not a budget-relation code (MNS)")
        XCTAssertTrue(found.last?.hint?.contains("7 digits") ?? false)
        for bad in ["040123456", "04012345678", "0401234567-01", "0401234567-0011", "040123456A", ""] {
            XCTAssertEqual(issues("[agency]\ntax_code = \"\(bad)\"\n").map(\.key), ["agency.tax_code"], bad)
        }
        for bad in ["12345678", "123456A", "MNS:1234567"] {
            XCTAssertEqual(issues("[agency]\nbudget_code = \"\(bad)\"\n").map(\.key), ["agency.budget_code"], bad)
        }
        XCTAssertEqual(issues("[agency]\ntax_code = 401234567\n").first?.message, "must be a string in double quotes, found integer")
    }

    // MARK: [signing]

    func testSignaturesRefused() throws {
        let withoutSeal = try issue("[signing]\nsignatures = [\"leader\"]\n")
        XCTAssertEqual(withoutSeal.key, "signing.signatures")
        XCTAssertEqual(withoutSeal.line, 2)
        XCTAssertTrue(withoutSeal.message.contains("văn bản đi luôn cần chữ ký số của cơ quan"), withoutSeal.message)
        XCTAssertTrue(withoutSeal.message.contains(" / \"signatures\": an outgoing document always needs the organization's signature"), withoutSeal.message)
        XCTAssertEqual(withoutSeal.hint, "signatures = [\"leader\", \"organization\"], or [\"organization\"] when leaders sign elsewhere")
        XCTAssertTrue(try issue("[signing]\nsignatures = []\n").message.contains("always needs the organization's signature"))
        XCTAssertTrue(try issue("[signing]\nsignatures = [\"leader\", \"leader\", \"organization\"]\n").message.contains("is named twice"))
        XCTAssertTrue(try issue("[signing]\nsignatures = [\"attachment\", \"organization\"]\n").message
            .contains("\"attachment\" is not a document signature (leader, organization)"))
        let notAList = try issue("[signing]\nsignatures = \"organization\"\n")
        XCTAssertEqual(notAList.message, "phải là danh sách chữ ký / must be a list of signatures, found \"organization\"")
        XCTAssertEqual(notAList.hint, "signatures = [\"leader\", \"organization\"]")
        XCTAssertEqual(try issue("[signing]\nsignatures = [\"organization\", 2]\n").key, "signing.signatures")
    }

    func testChoicesRefusedWithTheChoices() throws {
        let numbering = try issue("[signing]\nnumbering = \"per-notation\"\n")
        XCTAssertEqual(numbering.key, "signing.numbering")
        XCTAssertEqual(numbering.line, 2)
        XCTAssertEqual(numbering.message, "không có lựa chọn \"per-notation\" / unknown choice \"per-notation\"")
        XCTAssertEqual(numbering.hint, "one of \"single\", \"per_notation\"")
        let clock = try issue("[signing]\nclock = \"ntp\"\n")
        XCTAssertEqual(clock.key, "signing.clock")
        XCTAssertEqual(clock.hint, "one of \"require_synchronised\", \"trust_local_clock\"")
        XCTAssertEqual(try issue("[signing]\nclock = true\n").message, "must be a string in double quotes, found bool")
        XCTAssertEqual(try issue("[signing]\nrequire_revocation = \"yes\"\n").message, "must be true or false, found string")
    }

    func testSessionTimeoutIsAtMostFiveMinutes() throws {
        for bad in ["\"6m\"", "301", "\"1h\"", "0", "\"0s\""] {
            let found = try issue("[signing]\nsession_timeout = \(bad)\n")
            XCTAssertEqual(found.key, "signing.session_timeout", bad)
            XCTAssertEqual(found.line, 2)
            XCTAssertEqual(found.message, "phiên ký dài hơn 0 và tối đa 5 phút / a signing session lasts more than 0 and at most 5 minutes", bad)
            XCTAssertTrue(found.hint?.contains("no unattended signing") ?? false)
        }
        XCTAssertEqual(try issue("[signing]\nsession_timeout = \"soon\"\n").message, "is not a duration: \"soon\"")
        XCTAssertEqual(try ConfigurationLoader.parse("[signing]\nsession_timeout = \"90s\"\n").signing.sessionTimeout, .seconds(90))
    }

    func testSealWidthFrom10To100Millimetres() throws {
        for bad in ["9.9", "101", "0", "-36", "\"36\"", "\"36 mm\""] {
            let found = try issue("[signing]\nseal_width_mm = \(bad)\n")
            XCTAssertEqual(found.key, "signing.seal_width_mm", bad)
            XCTAssertTrue(found.message.hasPrefix("bề rộng con dấu từ 10 đến 100 mm / the seal's width must be 10 to 100 mm, found "), found.message)
            XCTAssertEqual(found.hint, "the real width of the seal in millimetres, e.g. seal_width_mm = 36")
        }
    }

    func testPathsMustBeAbsolute() {
        let found = issues("""
        [signing]
        seal_image = "dau.png"
        font = "LiberationSerif-Regular.ttf"

        [[signing.leaders]]
        name = "Nguyễn Văn An"
        title = "CHỦ TỊCH"
        identity = "CCCD:001085012345"
        signature_image = "chu-tich.png"
        """)
        XCTAssertEqual(found.map(\.key), ["signing.seal_image", "signing.font", "signing.leaders[1].signature_image"])
        XCTAssertEqual(found.map(\.line), [2, 3, 9])
        XCTAssertEqual(found.first?.message, "phải là đường dẫn tuyệt đối / must be an absolute path, found \"dau.png\"")
        XCTAssertEqual(found.first?.hint, "e.g. seal_image = \"/etc/gatewayd/dau.png\"")
    }

    func testTimestampServiceMustBeHTTP() throws {
        for bad in ["ftp://tsa.example.vn", "tsa.example.vn", "https://", "http:///tsr"] {
            let found = try issue("[signing]\ntsa_url = \"\(bad)\"\n")
            XCTAssertEqual(found.key, "signing.tsa_url", bad)
            XCTAssertEqual(found.message, "\"\(bad)\" không phải địa chỉ http(s) / is not an http(s) URL")
            XCTAssertTrue(found.hint?.contains("RFC 3161") ?? false)
        }
    }

    func testDefaultNotationAndPlace() throws {
        for bad in ["", "  ", String(repeating: "Đ", count: 31), "01/QĐ-UBND", "QĐ-UBND\\nTB"] {
            let found = try issue("[signing]\ndefault_notation = \"\(bad)\"\n")
            XCTAssertEqual(found.key, "signing.default_notation", bad)
            XCTAssertEqual(found.line, 2)
            XCTAssertTrue(found.message.hasPrefix("ký hiệu từ 1 đến 30 ký tự"), found.message)
            XCTAssertTrue(found.hint?.contains("QĐ-UBND") ?? false)
        }
        XCTAssertEqual(try issue("[signing]\nplace = \" \"\n"), ConfigurationIssue(
            key: "signing.place", line: 2, message: "địa danh không được để trống / the place name must not be empty", hint: "e.g. place = \"Hòa Tiến\""))
    }

    func testMisspeltSigningKey() throws {
        XCTAssertEqual(try issue("[signing]\nnumberring = \"single\"\n"), ConfigurationIssue(
            key: "signing.numberring", line: 2, message: "unknown key", hint: "did you mean \"numbering\"?"))
    }

    // MARK: [[signing.leaders]]

    func testLeaderMissingKeysIsReportedAtItsTable() {
        let found = issues("""
        \(leader)

        [[signing.leaders]]
        name = "Trần Thị Bình"
        """)
        XCTAssertEqual(found.map(\.key), ["signing.leaders[2].title", "signing.leaders[2].identity"])
        XCTAssertEqual(found.map(\.line), [6, 6], "the second [[signing.leaders]] header")
        XCTAssertEqual(found.first?.message, "thiếu / is missing")
        XCTAssertTrue(found.first?.hint?.contains("CHỦ TỊCH") ?? false)
        XCTAssertTrue(found.last?.hint?.contains("CCCD:001085012345") ?? false)
    }

    func testLeaderBlankOrWrongTypedValues() {
        let found = issues("""
        [[signing.leaders]]
        name = " "
        title = 5
        identity = "CCCD:001085012345"
        """)
        XCTAssertEqual(found.map(\.key), ["signing.leaders[1].name", "signing.leaders[1].title"])
        XCTAssertEqual(found.map(\.line), [2, 3])
        XCTAssertEqual(found.map(\.message), ["không được để trống / must not be empty", "must be a string in double quotes, found integer"])
    }

    func testLeaderIdentityMustBeAPersonalIdentifier() throws {
        for organization in ["MST:0401234567", "MNS:1234567", "000.00.20.H13"] {
            let found = try issue(leader.replacingOccurrences(of: "CCCD:001085012345", with: organization))
            XCTAssertEqual(found.key, "signing.leaders[1].identity", organization)
            XCTAssertEqual(found.line, 4)
            XCTAssertEqual(found.message, "\"\(organization)\" là định danh của tổ chức, lãnh đạo là một người / is an organization's identifier; a leader is a person")
        }
        for malformed in ["CCCD:12345", "001085012345", "CCCD:00108501234X", "Nguyễn Văn An"] {
            let found = try issue(leader.replacingOccurrences(of: "CCCD:001085012345", with: malformed))
            XCTAssertEqual(found.key, "signing.leaders[1].identity", malformed)
            XCTAssertEqual(found.message, "\"\(malformed)\" không phải định danh cá nhân / is not a personal identifier")
            XCTAssertEqual(found.hint, "CCCD:001085012345 (12 digits), CMND:… (9 or 12) or HC:… (passport), as in the certificate's UID")
        }
    }

    func testLeadersWrittenAsOneTableOrAValue() throws {
        let table = try issue("[signing.leaders]\nname = \"Nguyễn Văn An\"\n")
        XCTAssertEqual(table.key, "signing.leaders")
        XCTAssertEqual(table.line, 1)
        XCTAssertEqual(table.message, "mỗi lãnh đạo là một bảng [[signing.leaders]] / each leader is a table [[signing.leaders]]")
        XCTAssertTrue(table.hint?.contains("two brackets") ?? false)
        let value = try issue("[signing]\nclock = \"trust_local_clock\"\nleaders = [\"Nguyễn Văn An\"]\n")
        XCTAssertEqual(value.key, "signing.leaders")
        XCTAssertEqual(value.line, 3)
    }

    /// A second leader's problems are named by its place in the list and found on its own lines:
    /// the same identity as the first (written differently), a misspelt key.
    func testSecondLeaderProblemsNameItsTableAndLine() {
        let found = issues("""
        \(leader)

        [[signing.leaders]]
        name = "Nguyễn Văn An"
        title = "KT. CHỦ TỊCH\\nPHÓ CHỦ TỊCH"
        identity = "cccd: 001085012345"
        signature_img = "/etc/gatewayd/pho-chu-tich.png"
        """)
        XCTAssertEqual(found.map(\.key), ["signing.leaders[2].signature_img", "signing.leaders[2].identity"])
        XCTAssertEqual(found.map(\.line), [10, 9])
        XCTAssertEqual(found.first?.message, "unknown key")
        XCTAssertEqual(found.first?.hint, "did you mean \"signature_image\"?")
        XCTAssertEqual(found.last?.message, "CCCD:001085012345 đã là của lãnh đạo thứ 1 / is already leader 1's")
        XCTAssertTrue(found.last?.hint?.contains("one [[signing.leaders]] per person") ?? false)
    }

    func testAllProblemsTogetherAsConfigCheckPrintsThem() {
        let text = """
        [agency]
        tax_code = "04012345"

        [signing]
        numbering = "yearly"
        session_timeout = "10m"

        [[signing.leaders]]
        name = "Nguyễn Văn An"
        title = "CHỦ TỊCH"
        identity = "MST:0401234567"
        """
        do {
            _ = try ConfigurationLoader.parse(text, path: "/etc/gatewayd/gatewayd.toml")
            XCTFail("accepted")
        } catch let errors as ConfigurationErrors {
            XCTAssertEqual(errors.description, """
            /etc/gatewayd/gatewayd.toml:2: agency.tax_code: "04012345" không phải mã số thuế / is not a tax code (MST)
                gợi ý / hint: 10 digits, or 10-3 for a dependent unit, without "MST:", e.g. tax_code = "0401234567" or "0401234567-001"
            /etc/gatewayd/gatewayd.toml:5: signing.numbering: không có lựa chọn "yearly" / unknown choice "yearly"
                gợi ý / hint: one of "single", "per_notation"
            /etc/gatewayd/gatewayd.toml:6: signing.session_timeout: phiên ký dài hơn 0 và tối đa 5 phút / a signing session lasts more than 0 and at most 5 minutes
                gợi ý / hint: no unattended signing: a session ends after at most 5 minutes, e.g. session_timeout = "5m"
            /etc/gatewayd/gatewayd.toml:11: signing.leaders[1].identity: "MST:0401234567" là định danh của tổ chức, lãnh đạo là một người / is an organization's identifier; a leader is a person
                gợi ý / hint: the identifier in the leader's personal certificate (UID): CCCD:001085012345 (12 digits), CMND:… (9 or 12) or HC:… (passport), as in the certificate's UID
            """)
        } catch {
            XCTFail("\(error)")
        }
    }

    // MARK: docs/configuration.md

    /// The example in docs/configuration.md loads, and still loads with every commented key
    /// turned on (the `[signing]` example included), so the document never shows a file the
    /// daemon refuses.
    func testTheDocumentedExampleLoadsWithAndWithoutItsComments() throws {
        let document = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        // The daemon's example: the section "## Example" (gateway.toml's own example, "### Example"
        // further down, holds the boot file's sections too).
        let example = try XCTUnwrap(document.components(separatedBy: "\n## Example\n").dropFirst().first?
            .components(separatedBy: "```toml\n").dropFirst().first?
            .components(separatedBy: "```").first)
        let plain = try ConfigurationLoader.parse(example)
        XCTAssertEqual(plain.signing, GatewayConfiguration.Signing())
        let uncommented = example.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.wholeMatch(of: /# ((\[|[a-z_]+ = ).*)/).map { String($0.output.1) } ?? String(line)
        }.joined(separator: "\n")
        let configuration = try ConfigurationLoader.parse(uncommented)
        XCTAssertEqual(configuration.agency.taxCode, "0401234567")
        XCTAssertEqual(configuration.signing.leaders.map(\.title), ["CHỦ TỊCH"])
        XCTAssertEqual(configuration.signing.leaders.first?.identity, SubjectIdentifier("CCCD:001085012345"))
        XCTAssertEqual(configuration.signing.defaultNotation, "QĐ-UBND")
        XCTAssertEqual(configuration.signing.sealWidthMillimetres, 36)
    }
}
