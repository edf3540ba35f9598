// Process-wide settings of the daemon: they belong to the executable, not to a library that
// tests and other programs link.
#if canImport(Glibc)
import Glibc
#endif

enum ProcessSetup {
    static func forDaemon() {
        // Nothing the daemon creates (content, sockets, folders) is for other users.
        umask(0o007)
        // A lease broken while the hot folder probes a file would otherwise kill us (SIGIO), and a
        // client hanging up mid-answer must not (SIGPIPE).
        signal(SIGIO, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        // glibc gives each thread that allocates its own arena (up to 8 per core), each keeping
        // what it freed: with 20 threads that alone costs tens of MB on a 2 GB box. Two suffice.
        let arenaMaximum: Int32 = -8  // M_ARENA_MAX from <malloc.h>
        _ = glibcMallopt(arenaMaximum, 2)
    }
}

/// `mallopt(3)`: glibc's <malloc.h> is not part of Swift's Glibc module.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
