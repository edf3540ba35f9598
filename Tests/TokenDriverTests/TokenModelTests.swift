import Foundation
import TestSupport
import XCTest
@testable import TokenDriver

/// The token model table, the udev rules made from it, and libusb on this machine.
final class TokenModelTests: XCTestCase {
    func testKnownModelsAreFoundByTheirUSBIds() {
        XCTAssertEqual(TokenModel.matching(vendorID: 0x0529, productID: 0x0620)?.name.contains("eToken 5110"), true)
        XCTAssertEqual(TokenModel.matching(vendorID: 0x096E, productID: 0x0807)?.name, "Feitian ePass2003")
        XCTAssertEqual(TokenModel.matching(vendorID: 0x1050, productID: 0x0407)?.piv, .yes)
        XCTAssertNil(TokenModel.matching(vendorID: 0x1050, productID: 0x0402), "an OTP-only YubiKey has no smart card")
        let ids = TokenModel.table.map { UInt32($0.vendorID) << 16 | UInt32($0.productID) }
        XCTAssertEqual(Set(ids).count, ids.count, "one entry per USB id")
    }

    func testUSBIdentityNamesTheModelOrFallsBackToTheDevicesStrings() {
        var identity = USBIdentity(bus: 1, address: 5, vendorID: 0x0529, productID: 0x0620)
        identity.model = TokenModel.matching(vendorID: 0x0529, productID: 0x0620)?.name
        XCTAssertEqual(identity.idText, "0529:0620")
        XCTAssertTrue(identity.displayName.contains("eToken 5110"), identity.displayName)
        let unknown = USBIdentity(bus: 1, address: 6, vendorID: 0x1234, productID: 0xABCD, manufacturer: "VNPT", product: "CA Token")
        XCTAssertEqual(unknown.displayName, "VNPT CA Token")
        XCTAssertEqual(USBIdentity(bus: 1, address: 7, vendorID: 0x1234, productID: 0x00AB).displayName, "USB 1234:00ab")
    }

    func testChannelIDGivesBusAndAddressForUSBReadersOnly() {
        XCTAssertTrue(USBDevices.busAndAddress(channelID: 0x0020_0305)! == (bus: 3, address: 5))
        XCTAssertNil(USBDevices.busAndAddress(channelID: 0x0001_0000), "a serial reader has no USB address")
    }

    /// The committed rules file is exactly what the table generates (regenerate with
    /// `gatewayd token udev-rules > udev/70-commune-gateway-tokens.rules`).
    func testCommittedUdevRulesMatchTheTable() throws {
        let committed = try String(contentsOf: repositoryRoot.appendingPathComponent("udev/70-commune-gateway-tokens.rules"), encoding: .utf8)
        XCTAssertEqual(committed, TokenModel.udevRules(group: "gatewayd-tokens"), "udev rules out of date: regenerate them (udev/README.md)")
        let rules = committed.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
        XCTAssertEqual(rules.count, TokenModel.table.count + 1, "one rule per model, plus the CCID-class rule")
        for rule in rules { XCTAssertTrue(rule.hasSuffix("MODE=\"0660\", GROUP=\"gatewayd-tokens\", TAG+=\"systemd\""), String(rule)) }
    }

    /// libusb on this machine: the enumeration works (a container may show no device at all), and
    /// any device it lists has ids that match what sysfs says.
    func testLibUSBEnumeratesTheBuses() throws {
        let devices = try USBDevices.list()
        for device in devices {
            let sysfs = "/sys/bus/usb/devices"
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: sysfs) else { continue }
            let match = entries.first { entry in
                let busnum = try? String(contentsOfFile: "\(sysfs)/\(entry)/busnum", encoding: .utf8)
                let devnum = try? String(contentsOfFile: "\(sysfs)/\(entry)/devnum", encoding: .utf8)
                return busnum?.trimmingCharacters(in: .whitespacesAndNewlines) == "\(device.bus)"
                    && devnum?.trimmingCharacters(in: .whitespacesAndNewlines) == "\(device.address)"
            }
            guard let match else { continue }
            let vendor = try String(contentsOfFile: "\(sysfs)/\(match)/idVendor", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            XCTAssertEqual(vendor, String(device.idText.prefix(4)))
        }
        print("libusb sees \(devices.count) USB device(s): \(devices.map(\.idText))")
    }
}
