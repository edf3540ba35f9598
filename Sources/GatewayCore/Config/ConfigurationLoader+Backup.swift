// `[backup]` for the configuration loader (docs/backup.md, "Scheduled backups off the box").
import Foundation
import TOMLKit

extension GatewayConfiguration {
    /// Scheduled backups (`ScheduledBackups`): off unless `every` is set.
    package struct Backup: Sendable, Equatable {
        /// How often a backup is taken into `<data_dir>/backups/`; nil: never on its own.
        package var every: Duration?
        /// How many are kept there, and on the stick.
        package var keep = 3
        /// The label the image's udev rule mounts at `usbMount` (docs/backup.md); the daemon
        /// only sees the mount point.
        package var usbLabel = "GATEWAY-BK"
        /// Where a stick labelled `usbLabel` is mounted; the newest backup is copied there when
        /// one is mounted, and after each backup while it stays. Empty: no stick.
        package var usbMount = "/media/gateway-backup"

        package init() {}
    }
}

extension ConfigurationLoader.Reader {
    mutating func readBackup(_ table: TOMLTable, into backup: inout GatewayConfiguration.Backup) {
        if let every = duration(table, "backup", "every") {
            // Below an hour a backup of a large store would barely end before the next began.
            if every >= .seconds(3600) { backup.every = every } else {
                issue("backup.every", "ít nhất 1 giờ / at least an hour", hint: "e.g. every = \"24h\"")
            }
        }
        if let value = table["keep"] {
            if let keep = value.int, (1...100).contains(keep) { backup.keep = keep } else {
                issue("backup.keep", "phải là số nguyên từ 1 đến 100 / must be a whole number from 1 to 100", hint: "e.g. keep = 3")
            }
        }
        if let label = string(table, "backup", "usb_label") {
            // What a FAT or exFAT label may hold (11 characters, no spaces for the udev match).
            if !label.isEmpty, label.count <= 11, label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
                backup.usbLabel = label
            } else {
                issue("backup.usb_label", "nhãn USB tối đa 11 chữ cái, số, - hoặc _ / a stick label is at most 11 letters, digits, - or _",
                      hint: "e.g. usb_label = \"GATEWAY-BK\"")
            }
        }
        if let mount = string(table, "backup", "usb_mount") {
            if mount.isEmpty || mount.hasPrefix("/") { backup.usbMount = mount } else {
                issue("backup.usb_mount", "must be an absolute path, or \"\" for no stick", hint: "e.g. usb_mount = \"/media/gateway-backup\"")
            }
        }
    }
}
