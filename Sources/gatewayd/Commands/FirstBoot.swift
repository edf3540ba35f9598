// `gatewayd firstboot`: gateway.toml from the GATEWAY partition applied at every boot (issue 19),
// run by the image's oneshot unit before the network, SSH and gatewayd start.
import ArgumentParser
import FirstBoot
import Foundation

struct FirstBootCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "firstboot",
        abstract: "Áp dụng gateway.toml / apply gateway.toml to the box (network, time, SSH keys, host name, the daemon's configuration).",
        discussion: """
            All of it or nothing: a wrong file keeps the last good configuration (exit 1); on a box that never had one, \
            a fallback with DHCP, SSH and the console (exit 2). The result goes to --status (CRLF, UTF-8 with BOM) and to \
            standard output. Exit 0: applied.
            """)
    @Option(name: .customLong("boot-config"), help: "gateway.toml on the FAT partition.") var bootConfig: String
    @Option(help: "Where trang-thai.txt is written (beside gateway.toml).") var status: String
    @Option(help: "The box's root: / on the box, a directory in tests.") var root = "/"

    func run() async throws {
        let report = FirstBoot(bootFile: bootConfig, statusFile: status, root: root).run()
        print(BootStatus(report: report).text, terminator: "")
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }
}
