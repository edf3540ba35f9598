import Foundation
import TestSupport
import XCTest

/// Issue 16, acceptance 2: the shipped systemd units are hardened, as systemd itself rates them
/// (`systemd-analyze security --offline=true`, which reads the unit file without loading it).
/// 2.5 or lower for both; the score is the last line's "exposure level … N.N".
final class UnitHardeningTests: XCTestCase {
    func exposure(_ unit: String, in directory: String = "packaging") throws -> Double {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"), "needs systemd-analyze (systemd)")
        let path = repositoryRoot.appendingPathComponent("\(directory)/\(unit)").path
        let result = runProgram("/usr/bin/systemd-analyze", ["security", "--offline=true", "--no-pager", path])
        let line = try XCTUnwrap(result.out.split(separator: "\n").last { $0.contains("Overall exposure level") }, result.out + result.err)
        let words = line.split(separator: " ")
        let index = try XCTUnwrap(words.firstIndex { $0.hasSuffix(":") && $0.contains(".service") })
        return try XCTUnwrap(Double(words[words.index(after: index)]), String(line))
    }

    func testBothUnitsRateAtMostTwoAndAHalf() throws {
        for unit in ["gatewayd.service", "hubd.service"] {
            XCTAssertLessThanOrEqual(try exposure(unit), 2.5, unit)
        }
    }

    /// Issue 19, acceptance 3: the appliance image's own units (as root, before gatewayd) are held
    /// to the same bound.
    func testTheImagesUnitsRateAtMostTwoAndAHalf() throws {
        for unit in ["gateway-firstboot.service", "gateway-grow-data.service"] {
            XCTAssertLessThanOrEqual(try exposure(unit, in: "image/rootfs/etc/systemd/system"), 2.5, unit)
        }
    }

    /// hubd listens above 1024: it keeps no capability (it kept CAP_NET_BIND_SERVICE before).
    func testHubdHoldsNoCapability() throws {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("packaging/hubd.service"), encoding: .utf8)
        let settings = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        XCTAssertTrue(settings.contains("CapabilityBoundingSet="), text)
        XCTAssertFalse(settings.contains { $0.hasPrefix("AmbientCapabilities=") }, text)
    }
}
