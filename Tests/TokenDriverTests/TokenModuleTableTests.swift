import Foundation
import TestSupport
@testable import TokenDriver
import XCTest

/// Which backend and module serve a token (issue 18), and the module file checked before dlopen.
final class TokenModuleTableTests: XCTestCase {
    let vendor = "/var/lib/gatewayd/modules/libvendor.so"

    func testAConfiguredModuleWinsThenPIVThenOpenSCThenNothingWithAdvice() throws {
        // OpenSC's module must exist for it to be chosen: a file of ours stands for it.
        let openSC = NSTemporaryDirectory() + "opensc-\(UUID().uuidString).so"
        XCTAssertTrue(FileManager.default.createFile(atPath: openSC, contents: Data()))
        defer { try? FileManager.default.removeItem(atPath: openSC) }
        let table = TokenModuleTable(choices: [.init(atr: "3b9f96", usb: nil, module: vendor)], openSCModule: openSC)
        XCTAssertEqual(table.serving(atr: "3B9F968100", usb: "1050:0407", piv: true).module, vendor, "the entry wins over PIV")
        XCTAssertEqual(table.serving(atr: "3B8C80", usb: "1050:0407", piv: true), .piv)
        let epass = table.serving(atr: "3B8C80", usb: "096e:0807", piv: false)
        XCTAssertEqual(epass.module, openSC)
        XCTAssertTrue(epass.description.contains("OpenSC supports the Feitian ePass2003"), epass.description)
        let unknown = table.serving(atr: "3B8C80", usb: "163c:0407", piv: false)
        XCTAssertEqual(unknown.backend, "none")
        XCTAssertTrue(unknown.description.contains("Watchdata USB Key") && unknown.description.contains("[[tokens.module_for]]"), unknown.description)
        let byUSB = TokenModuleTable(choices: [.init(atr: nil, usb: "163C:0407", module: vendor)], openSCModule: openSC)
        XCTAssertEqual(byUSB.serving(atr: "3B", usb: "163c:0407", piv: false).module, vendor)
    }

    func testOpenSCMissingSaysWhatToInstall() {
        let table = TokenModuleTable(openSCModule: "/nonexistent/opensc-pkcs11.so")
        let serving = table.serving(atr: nil, usb: "0529:0620", piv: false)
        XCTAssertEqual(serving.backend, "none")
        XCTAssertTrue(serving.description.contains("apt install opensc-pkcs11"), serving.description)
    }

    /// A missing file, a text file and a library that is not PKCS#11 each have their own words,
    /// through the file check and through `PKCS11Module.load` (what `token list` and the daemon say).
    func testModulesThatCannotServeAreNamedPlainly() throws {
        let text = NSTemporaryDirectory() + "text-\(UUID().uuidString).so"
        try "not a module\n".write(toFile: text, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: text) }
        XCTAssertTrue(PKCS11ModuleFile.problem("/nonexistent/vendor.so")?.contains("no such file") == true)
        XCTAssertTrue(PKCS11ModuleFile.problem(text)?.contains("not an ELF library") == true)
        XCTAssertTrue(PKCS11ModuleFile.problem("/tmp")?.contains("not a regular file") == true)
        let libc = "/lib/x86_64-linux-gnu/libc.so.6"
        try XCTSkipUnless(FileManager.default.fileExists(atPath: libc), "needs \(libc)")
        XCTAssertNil(PKCS11ModuleFile.problem(libc), "an ELF library of this machine")
        XCTAssertTrue(PKCS11ModuleFile.checked(libc)?.contains("no C_GetFunctionList") == true, "but not PKCS#11")
        if FileManager.default.fileExists(atPath: "/usr/lib/softhsm/libsofthsm2.so") { XCTAssertNil(PKCS11ModuleFile.checked("/usr/lib/softhsm/libsofthsm2.so")) }
        for (path, words) in [(libc, "no C_GetFunctionList: not a PKCS#11 module"), (text, "not an ELF library"), ("/nonexistent/vendor.so", "no such file")] {
            XCTAssertThrowsError(try PKCS11Module.load(path: path)) { error in
                XCTAssertTrue("\(error)".contains(words) && "\(error)".contains("cannot load the PKCS#11 module \(path)"), "\(error)")
            }
            let report = PKCS11ModuleReport.scan(modulePath: path)
            XCTAssertTrue(report.problem?.contains(words) == true, "\(report)")
        }
    }
}
