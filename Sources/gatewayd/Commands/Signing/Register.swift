// `gatewayd register`: the year's register of outgoing documents (sổ đăng ký văn bản đi).
import ArgumentParser
import Foundation
import GatewayCore

struct Register: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sổ đăng ký văn bản đi của năm / the year's register of outgoing documents.")
    @Option(help: "The year (default: this year, Vietnam time).") var year: Int?
    @Flag(help: "JSON output.") var json = false
    @OptionGroup var location: Location

    func run() async throws {
        let configuration = try location.resolve()
        let list = try await CLI.call { try await LocalAPIClient(socketPath: configuration.socketPath).register(year: year) }
        if json { try CLI.printJSON(list); return }
        print("Sổ văn bản đi năm / outgoing register \(list.year)")
        print(Table.render(
            header: ["SỐ/NUMBER", "NGÀY/DATE", "TRÍCH YẾU/SUBJECT", "TRẠNG THÁI/STATE", "ID"],
            rows: list.entries.map { [$0.number.reference, $0.number.vietnameseDate, $0.subject ?? "", $0.state.rawValue, $0.document.description] }))
        print("\(list.entries.count) số / numbers")
    }
}
