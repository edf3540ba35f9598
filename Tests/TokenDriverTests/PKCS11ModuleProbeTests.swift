import Foundation
import TestSupport
@testable import TokenDriver
import XCTest

/// A module tried once in a child (`token probe-module`) before a long-lived process loads it:
/// one that crashes in C_Initialize or never returns is refused, with the reason, and the process
/// that asked lives on. The misbehaving modules are built here from a few lines of C.
final class PKCS11ModuleProbeTests: XCTestCase {
    var directory: String!
    let tool = repositoryRoot.appendingPathComponent(".build/debug/gateway-token").path
    let gatewayd = repositoryRoot.appendingPathComponent(".build/debug/gatewayd").path

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/cc"), "needs a C compiler (cc) to build the misbehaving modules")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: tool), "needs \(tool) (swift build)")
        directory = try PKCS11ModuleTrustTests.trustedScratch()
    }

    override func tearDown() {
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// A PKCS#11 module whose C_Initialize runs `body` (and its constructor, run by dlopen itself,
    /// `onLoad`): just enough of a function list (version 2.40, then C_Initialize first) for the
    /// loader to reach it.
    func module(_ name: String, initialize body: String, onLoad: String = "") throws -> String {
        let source = directory + "/\(name).c", library = directory + "/lib\(name).so"
        try """
            #include <unistd.h>
            struct list { unsigned char major, minor; void *functions[68]; };
            __attribute__((constructor)) static void loaded(void) { \(onLoad) }
            static unsigned long initialize(void *arguments) { \(body) return 0; }
            static struct list list = { 2, 40, { (void *)initialize } };
            unsigned long C_GetFunctionList(struct list **out) { *out = &list; return 0; }
            """.write(toFile: source, atomically: true, encoding: .utf8)
        let built = runProgram("/usr/bin/cc", ["-shared", "-fPIC", "-o", library, source])
        XCTAssertEqual(built.status, 0, built.err)
        return library
    }

    func probe(_ module: String, timeout: Duration = .seconds(20)) -> PKCS11ModuleProbe.Outcome {
        PKCS11ModuleProbe.run(program: tool, arguments: ["probe-module", module], timeout: timeout)
    }

    func testACrashInCInitializeKillsTheProbeNotUsAndTheModuleIsThenRefusedHere() throws {
        let crashing = try module("crash", initialize: "*(volatile int *)0 = 0;")
        let outcome = probe(crashing)
        XCTAssertEqual(outcome, .crashed(signal: SIGSEGV))
        let refusal = try XCTUnwrap(outcome.refusal)
        XCTAssertTrue(refusal.contains("the module killed its probe process (signal 11, Segmentation fault)"), refusal)
        PKCS11ModuleProbe.refuse(crashing, reason: refusal)
        // Refused before dlopen, by whatever path names it: loading it here would kill this test run.
        XCTAssertEqual(PKCS11ModuleFile.problem(crashing), refusal)
        XCTAssertThrowsError(try PKCS11Module.load(path: crashing)) { XCTAssertTrue("\($0)".contains(refusal), "\($0)") }
        let link = directory + "/libsame.so"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: crashing)
        XCTAssertEqual(PKCS11ModuleFile.problem(link), refusal)
    }

    func testAModuleThatNeverReturnsIsKilledAtTheLimit() throws {
        let hanging = try module("hang", initialize: "for (;;) pause();")
        // The limit itself is what is tested: one second of it, the probe's own start a few ms.
        let outcome = probe(hanging, timeout: .seconds(1))
        XCTAssertEqual(outcome, .timedOut(.seconds(1)))
        XCTAssertTrue(outcome.refusal?.contains("did not finish C_Initialize and C_GetSlotList within 1 s") == true, "\(outcome)")
    }

    func testAWorkingModuleAndOneThatFailsPlainlyAreNotRefused() throws {
        let failing = try module("fails", initialize: "return 6;")   // CKR_FUNCTION_FAILED
        XCTAssertEqual(probe(failing), .exited(1), "its own failure, which the load in process reports the same")
        XCTAssertNil(probe(failing).refusal)
        let softHSM = "/usr/lib/softhsm/libsofthsm2.so"
        try XCTSkipUnless(FileManager.default.fileExists(atPath: softHSM), "needs softhsm2")
        // SoftHSM2 reads SOFTHSM2_CONF at C_Initialize, and the probe inherits this process's: an
        // earlier test's may name a directory removed since. Its own, with an empty token directory.
        try FileManager.default.createDirectory(atPath: directory + "/tokens", withIntermediateDirectories: true)
        try "directories.tokendir = \(directory!)/tokens\n".write(toFile: directory + "/softhsm2.conf", atomically: true, encoding: .utf8)
        setenv("SOFTHSM2_CONF", directory + "/softhsm2.conf", 1)
        XCTAssertEqual(probe(softHSM), .exited(0))
    }

    /// Through gatewayd: `doctor` (the daemon's probes, then its scan) names the crashing module
    /// named alone in `[tokens] modules` and why, and finishes its report.
    func testGatewaydProbesTheConfiguredModulesAndLivesOn() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: gatewayd), "needs \(gatewayd) (swift build)")
        let crashing = try module("crash", initialize: "*(volatile int *)0 = 0;")
        // This one dies in dlopen itself, which config check's symbol lookup would run too.
        let crashingOnLoad = try module("crashonload", initialize: "", onLoad: "*(volatile int *)0 = 0;")
        try """
            data_dir = "\(directory!)/data"

            [tokens]
            module_dir = "\(directory!)"
            modules = ["libcrash.so", "libcrashonload.so"]
            """.write(toFile: directory + "/gatewayd.toml", atomically: true, encoding: .utf8)
        let doctor = runProgram(gatewayd, ["doctor", "--config", directory + "/gatewayd.toml"])
        XCTAssertTrue([1, 2].contains(doctor.status), "a report with warnings, not a crash: \(doctor.status) \(doctor.err)")
        XCTAssertTrue(doctor.out.contains("cannot load the PKCS#11 module \(crashing): mô-đun làm tiến trình thử chết"), doctor.out)
        XCTAssertTrue(doctor.out.contains("the module killed its probe process (signal 11"), doctor.out)
        // `config check` (the unit's ExecStartPre) too: a warning, not its own death.
        let check = runProgram(gatewayd, ["config", "check", directory + "/gatewayd.toml"])
        XCTAssertEqual(check.status, 0, check.err)
        XCTAssertTrue(check.out.contains("WARNING: tokens.modules: libcrash.so → \(crashing): mô-đun làm tiến trình thử chết"), check.out)
        XCTAssertTrue(check.out.contains("WARNING: tokens.modules: libcrashonload.so → \(crashingOnLoad): mô-đun làm tiến trình thử chết"), check.out)
        XCTAssertTrue(doctor.out.contains("cannot load the PKCS#11 module \(crashingOnLoad): mô-đun làm tiến trình thử chết"), doctor.out)
    }
}
