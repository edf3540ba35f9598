import Foundation
import SigningPolicy

/// Whether this machine's clock was synchronised with a time server, as systemd-timesyncd says:
/// it creates `/run/systemd/timesync/synchronized` once it has (systemd ≥ 249, Debian 12 has
/// 252), and `timedatectl` reports NTPSynchronized from the kernel's own flag for any NTP client
/// (chrony too). nil when neither can tell (no systemd: a container, a test machine).
package enum SystemClockState {
    static let timesyncFlag = "/run/systemd/timesync/synchronized"
    static let timedatectl = "/usr/bin/timedatectl"

    package static func synchronised() -> Bool? {
        if FileManager.default.fileExists(atPath: timesyncFlag) { return true }
        guard FileManager.default.isExecutableFile(atPath: timedatectl) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: timedatectl)
        process.arguments = ["show", "-p", "NTPSynchronized", "--value"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return ClockSynchronisation.parseTimedatectl(String(decoding: data, as: UTF8.self))
    }
}
