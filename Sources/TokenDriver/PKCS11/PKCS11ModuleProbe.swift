// A module tried once in a child process before a long-lived process loads it (docs/tokens.md,
// "A module that crashes"): a vendor module that dies in C_Initialize would otherwise take the
// daemon down at every start, and systemd would restart it into the same death.
import DurableFiles
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

package enum PKCS11ModuleProbe {
    package enum Outcome: Sendable, Equatable {
        /// The child ended on its own: 0 when the module initialised and listed its slots; any
        /// other status is a failure the module reports (the in-process load then says the same).
        case exited(Int32)
        /// Killed by a signal (SIGSEGV, SIGABRT …) inside the module's code.
        case crashed(signal: Int32)
        /// Still running after the time allowed: killed.
        case timedOut(Duration)
        case notStarted(String)

        /// Why the module must not be loaded into this process; nil when it may be.
        package var refusal: String? {
            switch self {
            case .exited, .notStarted: nil
            case .crashed(let signal):
                "mô-đun làm tiến trình thử chết (tín hiệu \(signal), \(Self.name(signal))), không nạp vào dịch vụ / the module killed its probe process"
                    + " (signal \(signal), \(Self.name(signal))) in C_Initialize or C_GetSlotList: not loaded into the daemon; ask the CA for a fixed module"
            case .timedOut(let limit):
                "mô-đun không trả lời trong \(limit.components.seconds) giây khi thử, không nạp vào dịch vụ / the module did not finish C_Initialize"
                    + " and C_GetSlotList within \(limit.components.seconds) s in its probe process: not loaded into the daemon"
            }
        }

        private static func name(_ signal: Int32) -> String { strsignal(signal).map { String(cString: $0) } ?? "?" }
    }

    /// What the child does (`token probe-module PATH`): load the module (C_Initialize), list its
    /// slots, let it go (C_Finalize). The number of slots, for the child's one line of output.
    package static func tryHere(_ path: String) throws(PKCS11Error) -> Int {
        let module = try PKCS11Module.load(path: path)
        return try module.slots(tokenPresent: false).count
    }

    /// Runs `program arguments` (the probe command) with standard output discarded and standard
    /// error shared (the child's own message reaches the same log), waiting at most `timeout`.
    package static func run(program: String, arguments: [String], timeout: Duration) -> Outcome {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // Without Swift's backtracer: it would spend a second writing the probe's own frames to
        // the log, and the crash is told by the signal anyway.
        var environment: [UnsafeMutablePointer<CChar>?] = [strdup("SWIFT_BACKTRACE=enable=no")]
        var entry = environ
        while let variable = entry.pointee {
            if strncmp(variable, "SWIFT_BACKTRACE=", 16) != 0 { environment.append(strdup(variable)) }
            entry += 1
        }
        environment.append(nil)
        defer { environment.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, program, &actions, nil, argv, environment)
        guard spawned == 0 else { return .notStarted("\(program): \(String(cString: strerror(spawned)))") }
        // waitpid blocks: on a thread of its own, so the wait for it can have a limit.
        let reaped = DispatchSemaphore(value: 0)
        let box = StatusBox()
        let child = pid
        DispatchQueue.global().async {
            var status: Int32 = 0
            while waitpid(child, &status, 0) < 0, errno == EINTR {}
            box.status = status
            reaped.signal()
        }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        guard reaped.wait(timeout: .now() + seconds) == .timedOut else { return outcome(box.status) }
        kill(pid, SIGKILL)
        reaped.wait()
        return .timedOut(timeout)
    }

    /// wait(2)'s status word (WIFSIGNALED, WTERMSIG, WEXITSTATUS are macros Swift cannot call).
    static func outcome(_ status: Int32) -> Outcome {
        let signal = status & 0x7F
        if signal == 0 { return .exited((status >> 8) & 0xFF) }
        return .crashed(signal: signal)
    }

    private final class StatusBox: @unchecked Sendable {
        /// Written by the reaping thread before it signals, read after the wait: ordered by the semaphore.
        var status: Int32 = 0
    }

    // MARK: what this process refuses

    /// Records that the module at `path` must not be loaded here (its probe crashed or hung):
    /// every later load of it, whatever names it, fails with `reason` before any dlopen.
    package static func refuse(_ path: String, reason: String) {
        guard case .trusted(let real) = PKCS11ModuleTrust.judge(path) else { return }
        refused.withLock { $0.append((real, reason)) }
    }

    static func refusal(realPath: String) -> String? {
        refused.withLock { list in list.last { $0.realPath == realPath }?.reason }
    }

    /// By real path, as `PKCS11ModuleFile` judges. An array, not a dictionary: every load looks
    /// here, and a dictionary's first use costs a one-shot `gateway-token` a scan of every
    /// protocol conformance in the binary (PKCS11Module.loaded says the same).
    private static let refused = Mutex<[(realPath: String, reason: String)]>([])
}
