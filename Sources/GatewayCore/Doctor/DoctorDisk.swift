// Free space where the store lives.
import DurableFiles
import Foundation

package enum DoctorDisk {
    package struct Space: Sendable, Equatable {
        package var free: Int64
        package var total: Int64
        package init(free: Int64, total: Int64) { (self.free, self.total) = (free, total) }
    }

    /// statvfs of `path`: what an unprivileged writer may still use, of the whole filesystem.
    package static func space(at path: String) throws(SystemCallError) -> Space {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { throw SystemCallError(call: "statvfs", path: path, errno: errno) }
        return Space(free: Int64(stats.f_bavail) * Int64(stats.f_frsize), total: Int64(stats.f_blocks) * Int64(stats.f_frsize))
    }

    /// The thresholds are derived, not configured: fail below `[intake] disk_reserve` (the box
    /// already refuses new documents there), warning below twice the reserve or below a tenth of
    /// the filesystem (room for a few days of a commune's documents, time to act).
    package static func judge(_ space: Space, reserve: Int64, path: String) -> DoctorCheck {
        let free = ByteCountText.format(space.free), total = ByteCountText.format(space.total)
        if space.free < reserve {
            return DoctorCheck("disk", .fail, "Đĩa gần đầy: còn \(free) trên \(total) (\(path)), dưới mức dự trữ \(ByteCountText.format(reserve)): hộp không nhận văn bản mới",
                               "Disk nearly full: \(free) free of \(total) (\(path)), below the reserve of \(ByteCountText.format(reserve)): the box refuses new documents",
                               action: "Giải phóng chỗ trống hoặc thay đĩa lớn hơn; gửi hết văn bản đang chờ lên cấp trên",
                               "Free some space or fit a larger disk; get the waiting documents sent upstream")
        }
        if space.free < 2 * reserve || space.free < space.total / 10 {
            return DoctorCheck("disk", .warning, "Đĩa sắp đầy: còn \(free) trên \(total) (\(path))",
                               "Disk filling up: \(free) free of \(total) (\(path))",
                               action: "Giải phóng chỗ trống trước khi hộp ngừng nhận văn bản (dưới \(ByteCountText.format(reserve)))",
                               "Free some space before the box stops taking documents (below \(ByteCountText.format(reserve)))")
        }
        return DoctorCheck("disk", .ok, "Đĩa còn \(free) trên \(total) (\(path))", "Disk: \(free) free of \(total) (\(path))")
    }
}
