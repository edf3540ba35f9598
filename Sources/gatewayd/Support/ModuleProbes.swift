// The configured PKCS#11 modules each tried once in a child process (`gatewayd token
// probe-module`) before this process loads any of them (docs/tokens.md, "A module that
// crashes"): one that dies by a signal or hangs is refused here, with the reason in the status.
import Dispatch
import Foundation
import GatewayCore
import Logging
import TokenDriver

enum ModuleProbes {
    /// Long enough for a module that talks to pcscd or a network HSM at C_Initialize; short
    /// enough that a hung one holds the start back less than systemd's start timeout (90 s).
    static let timeout: Duration = .seconds(20)

    /// Every module `modules` and `[[tokens.module_for]]` name that passes the file check, probed
    /// in parallel; those that crashed or hung are refused for this process
    /// (`PKCS11ModuleProbe.refuse`) and logged. Not OpenSC's default module: Debian's, not a
    /// vendor's, and its C_GetSlotList connects to every card in the readers.
    static func run(_ tokens: GatewayConfiguration.Tokens, logger: Logger) async {
        let modules = Array(Set(tokens.modules + tokens.moduleFor.map(\.module)))
            .filter { PKCS11ModuleFile.problem($0) == nil }
        guard !modules.isEmpty, let program = ownProgram() else { return }
        await withTaskGroup(of: Void.self) { group in
            for module in modules {
                group.addTask {
                    // The wait blocks a thread for up to `timeout`: not one of the concurrency pool's.
                    let outcome = await withCheckedContinuation { continuation in
                        DispatchQueue.global().async { continuation.resume(returning: probe(module, program: program)) }
                    }
                    if let refusal = outcome.refusal {
                        PKCS11ModuleProbe.refuse(module, reason: refusal)
                        logger.error("PKCS#11 module refused after its probe / mô-đun bị từ chối sau khi thử", metadata: ["module": "\(module)", "reason": "\(refusal)"])
                    } else if case .notStarted(let why) = outcome {
                        logger.warning("PKCS#11 module probe not started / không chạy được tiến trình thử", metadata: ["module": "\(module)", "error": "\(why)"])
                    }
                }
            }
        }
    }

    /// One module's probe, waited for here (blocking).
    static func probe(_ module: String, program: String? = ownProgram()) -> PKCS11ModuleProbe.Outcome {
        guard let program else { return .notStarted("/proc/self/exe") }
        return PKCS11ModuleProbe.run(program: program, arguments: ["token", "probe-module", module], timeout: timeout)
    }

    /// This very executable (`/proc/self/exe`), so that the probe is the same build.
    private static func ownProgram() -> String? {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments.first
    }
}
