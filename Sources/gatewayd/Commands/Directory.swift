// `gatewayd directory`: the hub's agency directory, filtered by words.
import ArgumentParser
import DocumentModel
import Foundation
import GatewayCore
import TimeJSON

struct Directory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Danh bạ cơ quan của cấp trên / the hub's agency directory: the names a document may be addressed to.")
    @Argument(help: "Only names containing these words.") var words: [String] = []
    @Flag(help: "JSON output.") var json = false
    @OptionGroup var location: Location

    func run() async throws {
        let configuration = try location.resolve()
        var list = try await CLI.fromDaemonOrStore(
            configuration,
            daemon: { try await $0.directory() },
            store: { try $0.directory() })
        let wanted = words.map(AgencyDirectory.normalized).filter { !$0.isEmpty }
        list.agencies = list.agencies.filter { entry in
            let name = AgencyDirectory.normalized(entry.name)
            return wanted.allSatisfy { name.contains($0) || entry.code.rawValue.contains($0) }
        }
        if json { try CLI.printJSON(list); return }
        print(Table.render(header: ["MÃ/CODE", "TÊN/NAME"], rows: list.agencies.map { [$0.code.rawValue, $0.name] }))
        print("\(list.agencies.count) cơ quan / agencies; "
            + (list.fetchedAt.map { "lấy từ cấp trên lúc / fetched from the hub at \(GatewayJSON.format($0))" }
               ?? "chưa lấy được từ cấp trên / not yet fetched from the hub"))
    }
}
