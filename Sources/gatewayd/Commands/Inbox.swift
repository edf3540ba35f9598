// `gatewayd inbox`: what the hub brought down, and a clerk's status about one of them.
import ArgumentParser
import DocumentModel
import Foundation
import GatewayCore
import TimeJSON

struct Inbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Văn bản đến từ cấp trên / incoming documents: list them, or send a status about one.",
        subcommands: [List.self, Reply.self, Redeliver.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Liệt kê / what the hub brought down, newest first, and where each document is for the clerks.")
        @Option(help: "At most this many (1–1000).") var limit = 100
        @Flag(help: "JSON output.") var json = false
        @OptionGroup var location: Location

        func run() async throws {
            let configuration = try location.resolve()
            var list = try await CLI.fromDaemonOrStore(
                configuration,
                daemon: { try await $0.inbox(limit: limit) },
                store: { try $0.inbox(limit: limit, inboxFolder: configuration.resolvedInboxFolder) })
            if list.inboxFolder.isEmpty { list.inboxFolder = configuration.resolvedInboxFolder }
            if json { try CLI.printJSON(list); return }
            print(Table.render(
                header: ["SỐ/HUB ID", "LOẠI/KIND", "NƠI GỬI/FROM", "NHẬN LÚC/RECEIVED", "ĐÃ BÁO 01/STATUS 01", "CHỮ KÝ/SIGNATURES", "THƯ MỤC/FOLDER"],
                rows: list.items.map { item in
                    [String(item.hubId), item.kind == .document ? "văn bản" : "trạng thái", item.from,
                     GatewayJSON.format(item.storedAt).prefix(19).replacingOccurrences(of: "T", with: " "),
                     item.kind == .document ? (item.statusSentAt == nil ? "chưa / not yet" : "đã / sent") : "",
                     item.verdict?.outcome.label ?? (item.kind == .document ? "(chưa / not yet)" : ""),
                     item.folder ?? (item.kind == .document ? "(chưa / not yet)" : "")]
                }))
            print("\(list.items.count) mục / items; thư mục văn bản đến / inbox folder: \(list.inboxFolder)")
            // Why a document is not valid, under the table: the clerk must be able to act on it.
            for item in list.items {
                guard let verdict = item.verdict, verdict.outcome != .valid else { continue }
                print("\nSố / hub id \(item.hubId) (\(item.key)):")
                for line in verdict.lines { print("  " + line) }
            }
        }
    }

    struct Reply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Báo trạng thái về văn bản đến cho nơi gửi / send the sender a status about an incoming document.",
            discussion: "CODE: 03 đã tiếp nhận (registered), 04 đã phân công (assigned), 05 đang xử lý (in progress), 06 đã xử lý xong (done), 02 từ chối (refused; --note gives the reason). The relay sends it, and retries while the link is down.")
        @Argument(help: "The incoming document's number (SỐ/HUB ID in gatewayd inbox).") var hubID: Int64
        @Argument(help: "Status code: 02, 03, 04, 05 or 06.") var code: String
        @Option(help: "Description or, for 02, the reason.") var note: String?
        @Option(help: "Who handles it.") var staff: String?
        @OptionGroup var location: Location

        func run() async throws {
            let configuration = try location.resolve()
            let record: ClerkStatusAccepted
            do {
                record = try await LocalAPIClient(socketPath: configuration.socketPath).sendStatus(hubID: hubID, code: code, description: note, staff: staff)
            } catch let failure as LocalAPIClient.Failure {
                throw CLI.fail(failure.description)
            }
            print("Đã ghi nhận trạng thái \(record.statusCode) cho văn bản đến số \(record.hubID); hộp sẽ gửi lên cấp trên."
                + " / Status \(record.statusCode) recorded for incoming document \(record.hubID); the box will send it to the hub.")
        }
    }

    struct Redeliver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Nhờ trạm chuyển lại văn bản đến đã nhận từ một thời điểm / ask the hub to deliver again what this box acknowledged since a time.",
            discussion: """
                After restoring an older backup by hand (`gatewayd restore` asks by itself). The request is left in the data \
                directory; the running daemon sends it before its next poll (or at its start) and removes it once the hub agreed. \
                What the box already holds is not stored twice.
                """)
        @Option(help: "ISO 8601 time (2026-12-01T08:00:00+07:00) or day (2026-12-01, midnight in Vietnam).") var since: String
        @OptionGroup var location: Location

        func run() async throws {
            let configuration = try location.resolve()
            guard let date = Self.time(since) else {
                throw CLI.fail("--since: không phải thời điểm ISO 8601 / not an ISO 8601 time or day: \(since)")
            }
            guard date <= Date() else { throw CLI.fail("--since: thời điểm trong tương lai / a time in the future") }
            try RedeliveryRequestFile(since: date).write(inDataDirectory: configuration.dataDirectory)
            print("Đã ghi yêu cầu chuyển lại từ \(GatewayJSON.format(date)); gatewayd gửi nó cho trạm trước lần hỏi hộp thư tới."
                + " / Redelivery since \(GatewayJSON.format(date)) requested; gatewayd asks the hub before its next inbox poll.")
        }

        static func time(_ text: String) -> Date? {
            if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
            if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
            return try? Date.ISO8601FormatStyle(timeZone: GatewayJSON.vietnamTime).year().month().day().parse(text)
        }
    }
}
