// `gatewayd store check`: the store's consistency, inside the daemon or on the store directly.
import ArgumentParser
import Foundation
import GatewayCore

struct Store: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Kho văn bản / the document store.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Kiểm tra và sửa kho / check the store's consistency and repair what is safe.",
            discussion: "Runs inside the daemon when it is running, on the store directly otherwise. Exit 0: consistent; 1: problems found (repairs are listed).")
        @Flag(help: "JSON output.") var json = false
        @OptionGroup var location: Location

        func run() async throws {
            let configuration = try location.resolve()
            let report = try await CLI.fromDaemonOrStore(
                configuration,
                daemon: { try await $0.storeCheck() },
                store: { try $0.check(ownsStore: true) })
            if json {
                try CLI.printJSON(report)
            } else {
                print("SQLite integrity_check: \(report.integrity)")
                print("Văn bản đã kiểm / documents checked: \(report.documentsChecked) (SHA-256 verified: \(report.contentVerified))")
                print("Tệp tạm đã xóa / temporary files removed: \(report.temporaryFilesRemoved.count)")
                for name in report.orphansMovedAside { print("Tệp không có bản ghi, đã chuyển sang orphans/ / orphan moved aside: \(name)") }
                for entry in report.quarantined { print("Đã cách ly / quarantined: \(entry.id) — \(entry.reason)") }
                if let chain = report.auditChain {
                    print("Dòng nhật ký đã kiểm / audit lines checked: \(chain.entriesChecked)")
                    if let broken = chain.broken {
                        print("Chuỗi nhật ký đứt ở dòng \(broken.entry) (văn bản \(broken.documentId)): \(broken.vi) / "
                              + "audit chain broken at line \(broken.entry) (document \(broken.documentId)): \(broken.en)")
                    }
                }
                print(report.isClean ? "Kho nhất quán / store is consistent." : "Đã phát hiện vấn đề (xem trên) / problems found (see above).")
            }
            if !report.isClean { throw ExitCode.failure }
        }
    }
}
