// gateway.toml's own rules, each refusal with its key and line (BootConfigurationLoader).
import GatewayCore
import XCTest

final class BootConfigurationRulesTests: XCTestCase {
    func issues(_ text: String) -> [String] {
        do {
            _ = try BootConfigurationLoader.parse(text, path: "gateway.toml")
            return []
        } catch {
            return error.issues.map { "\($0.line.map(String.init) ?? "-") \($0.key ?? "")" }
        }
    }

    func testNetworkRules() throws {
        XCTAssertEqual(issues("[network]\ndhcp = true\naddress = \"192.168.1.20/24\"\n"), ["3 network.address"], "one or the other")
        XCTAssertEqual(issues("[network]\ndhcp = false\n"), ["2 network.dhcp"], "said where the technician looks")
        XCTAssertEqual(issues("[network]\ndhcp = false\naddress = \"192.168.1.20/33\"\n"), ["3 network.address"])
        XCTAssertEqual(issues("[network]\ndhcp = false\naddress = \"10.0.0.5/8\"\ngateway = \"fe80::1\"\n"), ["4 network.gateway"])
        XCTAssertEqual(issues("[network]\ndns = [\"8.8.8.8\", \"dns.google\"]\n"), ["2 network.dns"])
        let fixed = try BootConfigurationLoader.parse("[network]\ndhcp = false\naddress = \"2001:db8::20/64\"\ngateway = \"2001:db8::1\"\n", path: "-")
        XCTAssertEqual(fixed.network, .fixed(address: "2001:db8::20/64", gateway: "2001:db8::1", dns: []))
        XCTAssertEqual(try BootConfigurationLoader.parse("[network]\ndns = \"1.1.1.1\"\n", path: "-").network, .dhcp(dns: ["1.1.1.1"]), "one string is a list of one")
        XCTAssertEqual(try BootConfigurationLoader.parse("", path: "-").network, .dhcp(dns: []), "no [network]: DHCP")
    }

    func testTimeNameAndSecretRules() throws {
        XCTAssertEqual(issues("[time]\nservers = [\"pool.ntp.org\", \"not a server\"]\n"), ["2 time.servers"])
        XCTAssertEqual(issues("[box]\nhostname = \"-hoa\"\n"), ["2 box.hostname"])
        XCTAssertEqual(try BootConfigurationLoader.parse("[box]\nhostname = \"Hoa-Tien\"\n", path: "-").hostname, "hoa-tien")
        XCTAssertEqual(issues("\n[console]\nsetup_code = \"1234\"\n"), ["3 console.setup_code"])
        XCTAssertEqual(issues("[enrolment]\ntoken = \"a b\"\n"), ["2 enrolment.token"])
        XCTAssertEqual(issues("[enrolment]\ntokn = \"x\"\n"), ["2 enrolment.tokn"], "unknown keys are errors here too")
        XCTAssertEqual(issues("[console]\nsetup_code = \"\"\"\n123412341234\"\"\"\n"), ["2 console.setup_code"], "a secret that cannot be blanked safely")
        let blank = try BootConfigurationLoader.parse("[console]\nsetup_code = \"\"\n[enrolment]\ntoken = \"\"\n", path: "-")
        XCTAssertNil(blank.setupCode)
        XCTAssertNil(blank.enrolmentToken, "blank: already handed over")
    }

    func testTheDaemonsSectionsAreTheDaemonsRules() throws {
        XCTAssertEqual(issues("[agency]\ncode = \"xyz\"\n[network]\ndhcp = true\n"), ["2 agency.code"])
        let boot = try BootConfigurationLoader.parse("[console]\nenabled = false\nsetup_code = \"\"\n[box]\nhostname = \"x\"\n", path: "-")
        XCTAssertEqual(try ConfigurationLoader.parse(boot.daemonTOML), boot.daemon)
        XCTAssertFalse(boot.daemonTOML.contains("setup_code") || boot.daemonTOML.contains("[box]"))
        XCTAssertFalse(boot.daemon.console.enabled)
    }
}
