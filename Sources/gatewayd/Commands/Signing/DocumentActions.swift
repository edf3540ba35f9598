// `gatewayd return`, `withdraw` and `replace`: what people do to a document before it is signed.
import ArgumentParser
import Foundation
import GatewayCore

/// The leader sends a document back to the clerk with a note (state `returned`).
struct Return: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "return",
        abstract: "Trả lại văn bản cho văn thư, kèm ghi chú / return a document to the clerk with a note.")
    @Argument(help: "Document id.") var id: String
    @Option(help: "What the clerk must change (required).") var note: String
    @Option(help: "Who returns it (for the history).") var by: String?
    @OptionGroup var location: Location

    func run() async throws {
        try await DocumentAction.perform("return", id: id, note: note, by: by, location: location)
    }
}

/// The clerk withdraws a document that is not yet signed: it is never sent (state `withdrawn`).
struct Withdraw: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rút lại văn bản chưa ký xong: không gửi đi / withdraw a document not yet signed: it is never sent.")
    @Argument(help: "Document id.") var id: String
    @Option(help: "Why (for the history).") var note: String?
    @Option(help: "Who withdraws it (for the history).") var by: String?
    @OptionGroup var location: Location

    func run() async throws {
        try await DocumentAction.perform("withdraw", id: id, note: note, by: by, location: location)
    }
}

/// The clerk's new file for a document nobody has signed yet (a returned one goes back in line).
struct Replace: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Thay tệp của văn bản chưa ai ký / replace the file of a document nobody has signed yet.")
    @Argument(help: "Document id.") var id: String
    @Argument(help: "The new file (a PDF).") var file: String
    @Option(help: "Who replaces it (for the history).") var by: String?
    @OptionGroup var location: Location

    func run() async throws {
        let configuration = try location.resolve()
        let view = try await CLI.call {
            try await LocalAPIClient(socketPath: configuration.socketPath).replace(id, file: file, by: by ?? CLI.user)
        }
        print("\(view.document.id): \(view.document.state.rawValue), phiên bản / version \(view.document.version)")
    }
}

enum DocumentAction {
    static func perform(_ action: String, id: String, note: String?, by: String?, location: Location) async throws {
        let configuration = try location.resolve()
        let view = try await CLI.call {
            try await LocalAPIClient(socketPath: configuration.socketPath).act(id, action: action, note: note, by: by ?? CLI.user)
        }
        print("\(view.document.id): \(view.document.state.rawValue)\(view.document.stateReason.map { " — \($0)" } ?? "")")
    }
}
