// `gatewayd edxml …`: build, read, sign and check edXML packages (QCVN 102:2016).
import ArgumentParser

struct EdXMLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edxml",
        abstract: "Gói tin edXML (QCVN 102:2016) / edXML packages.",
        subcommands: [])
}
