import Foundation

/// Whether the box's clock may be trusted for a signature: a box without a clock battery that has
/// not reached a time server would sign with a wrong date, give register numbers out of order
/// and misjudge certificate validity.
package enum ClockSynchronisation {
    /// `[signing] clock`: what the technician accepts.
    package enum Tolerance: String, Sendable, Hashable, CaseIterable {
        /// systemd-timesyncd (or another NTP client) must say the clock is synchronised.
        case requireSynchronised = "require_synchronised"
        /// The box keeps time by itself (a clock battery, checked by the technician): sign
        /// even when no time server was reached.
        case trustLocalClock = "trust_local_clock"
    }

    /// `timedatectl show -p NTPSynchronized --value`: "yes" / "no"; anything else is unknown (nil).
    package static func parseTimedatectl(_ output: String) -> Bool? {
        switch output.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() {
        case "yes", "true", "1": true
        case "no", "false", "0": false
        default: nil
        }
    }

    /// `synchronised`: what timedatectl said, or whether `/run/systemd/timesync/synchronized`
    /// exists; nil when neither could be read.
    package static func check(synchronised: Bool?, tolerance: Tolerance) throws(SigningRefusal) {
        guard tolerance == .requireSynchronised, synchronised != true else { return }
        if synchronised == false {
            throw SigningRefusal(.clockNotSynchronised,
                                 "đồng hồ của hộp chưa được đồng bộ với máy chủ thời gian: chưa ký được — kiểm tra kết nối mạng rồi thử lại",
                                 "the box's clock is not synchronised with a time server: no signature yet; check the network link and try again")
        }
        throw SigningRefusal(.clockStateUnknown,
                             "không biết đồng hồ của hộp đã đồng bộ chưa (timedatectl không trả lời) — báo kỹ thuật viên",
                             "whether the box's clock is synchronised cannot be told (timedatectl did not answer): tell the technician")
    }
}
