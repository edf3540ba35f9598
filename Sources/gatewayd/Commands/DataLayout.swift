// `gatewayd data-layout`: the data partition brought to its layout at every boot (image/README.md,
// "The disk"), by the image's gateway-data.service before /var/lib/gatewayd is bind-mounted.
import ArgumentParser
import FirstBoot
import Foundation

struct DataLayoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data-layout",
        abstract: "Sắp xếp phân vùng dữ liệu / lay out the data partition (gatewayd/ the daemon's, system/ root's).",
        discussion: """
            A partition of an earlier image (the daemon's files at its top) has them moved into gatewayd/ and ksmbd's \
            user database into system/, each by one rename: run again after a power cut, it finishes. What it leaves \
            where it was is printed; exit 0 all the same, so that the box boots.
            """)
    @Argument(help: "The partition's mount point.") var top = DataLayout.mountPoint

    func run() async throws {
        let report = try DataLayout(top: top).apply(now: Date())
        for move in report.moved { print("\(top): đã chuyển / moved \(move)") }
        for problem in report.problems { print(problem) }
    }
}
