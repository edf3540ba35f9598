// `gatewayd queue list`: the outgoing documents, from the daemon or the store.
import ArgumentParser
import DocumentModel
import Foundation
import GatewayCore
import TimeJSON

struct Queue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Hàng đợi văn bản / the document queue.", subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Liệt kê văn bản / list documents, newest first.")
        @Option(help: "Only documents in this state (repeatable).") var state: [String] = []
        @Option(help: "At most this many (1–1000).") var limit = 100
        @Flag(help: "JSON output.") var json = false
        @OptionGroup var location: Location

        func run() async throws {
            let configuration = try location.resolve()
            let states = state.compactMap(DocumentState.init(rawValue:))
            let documents = try await CLI.fromDaemonOrStore(
                configuration,
                daemon: { try await $0.list(states: state, limit: limit) },
                store: { try $0.documents(states: states, limit: limit) })
            if json { try CLI.printJSON(documents); return }
            print(Table.render(
                header: ["ID", "TRẠNG THÁI/STATE", "ĐỘ KHẨN", "KÍCH THƯỚC", "NHẬN LÚC/RECEIVED", "TỆP/FILE", "TRÍCH YẾU/SUBJECT"],
                rows: documents.map { document in
                    [document.id.description, document.state.rawValue,
                     Priority(rawValue: document.priority)?.vietnameseName ?? "\(document.priority)",
                     ByteCountText.format(document.size), GatewayJSON.format(document.receivedAt).prefix(19).replacingOccurrences(of: "T", with: " "),
                     document.fileName, document.metadata.subject ?? ""]
                }))
            print("\(documents.count) văn bản / documents")
        }
    }
}
