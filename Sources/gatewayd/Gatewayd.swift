// gatewayd: the commune document gateway's daemon and its command line for technicians and
// clerks. Only wiring lives here; the behaviour is in GatewayCore.
import ArgumentParser
import EdXML
import Foundation
import GatewayCore
import Logging
import NIOPosix
import TokenCommandLine

@main
struct Gatewayd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gatewayd",
        abstract: "Cổng văn bản điện tử cấp xã / commune document gateway",
        discussion: """
            Exit status: 0 success; 1 refused or failed (the message says why); 3 the daemon is not \
            running; 64 wrong usage.
            """,
        subcommands: [Serve.self, Submit.self, Queue.self, Show.self, Inbox.self, Directory.self, Status.self, Store.self, Config.self, Token.self, Sign.self, Verify.self, EdXMLCommand.self])
}

/// `--config FILE` / `--data-dir DIR`: how every command finds the daemon and its store.
struct Location: ParsableArguments {
    @Option(name: .customLong("config"), help: "Configuration file (TOML). Default: \(GatewayConfiguration.defaultPath) when neither option is given.")
    var configPath: String?

    @Option(name: .customLong("data-dir"), help: "Data directory (overrides data_dir of the configuration).")
    var dataDirectory: String?

    func resolve() throws -> GatewayConfiguration {
        var configuration = GatewayConfiguration()
        if let configPath {
            configuration = try ConfigurationLoader.load(path: configPath)
        } else if dataDirectory == nil, FileManager.default.fileExists(atPath: GatewayConfiguration.defaultPath) {
            configuration = try ConfigurationLoader.load(path: GatewayConfiguration.defaultPath)
        }
        if let dataDirectory {
            configuration.dataDirectory = URL(fileURLWithPath: dataDirectory).standardizedFileURL.path
        }
        return configuration
    }
}

enum CLI {
    static let daemonNotRunning = ExitCode(3)

    static func fail(_ message: String, code: ExitCode = .failure) -> ExitCode {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        return code
    }

    /// Runs a client call and turns its failures into the documented exit statuses.
    static func call<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let failure as LocalAPIClient.Failure {
            if case .daemonNotRunning = failure { throw fail(failure.description, code: daemonNotRunning) }
            throw fail(failure.description)
        } catch let errors as ConfigurationErrors {
            throw fail(errors.description)
        }
    }

    static func printJSON(_ value: some Encodable) throws {
        let data = try GatewayJSON.encoder.encode(value)
        print(String(decoding: data, as: UTF8.self))
    }

    /// Asks the daemon; when it is not running, reads the store itself, so a technician can look
    /// at a stopped box. Other failures become the documented exit statuses.
    static func fromDaemonOrStore<T>(
        _ configuration: GatewayConfiguration,
        daemon: (LocalAPIClient) async throws -> T,
        store: (DocumentStore) throws -> T
    ) async throws -> T {
        do {
            return try await daemon(LocalAPIClient(socketPath: configuration.socketPath))
        } catch LocalAPIClient.Failure.daemonNotRunning {
            FileHandle.standardError.write(Data("(gatewayd không chạy: đọc trực tiếp kho / daemon not running: reading the store directly)\n".utf8))
            do { return try withOfflineStore(configuration, store) } catch let error as StoreLock.Failure {
                throw fail(error.description)
            }
        } catch let failure as LocalAPIClient.Failure {
            throw fail(failure.description)
        }
    }

    /// Opens the store directly (daemon not running), holding the data directory's lock.
    static func withOfflineStore<T>(_ configuration: GatewayConfiguration, _ body: (DocumentStore) throws -> T) throws -> T {
        let lock = try StoreLock(layout: configuration.layout)
        defer { withExtendedLifetime(lock) {} }
        var logger = Logger(label: "gatewayd")
        logger.logLevel = .warning
        let store = try DocumentStore(layout: configuration.layout, limits: configuration.storeLimits, logger: logger, ioPool: .singleton)
        return try body(store)
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Chạy dịch vụ (foreground) / run the daemon in the foreground.")
    @OptionGroup var location: Location

    func run() async throws {
        let configuration: GatewayConfiguration
        do { configuration = try location.resolve() } catch { throw CLI.fail("\(error)") }
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "gatewayd")
        do {
            try await GatewayDaemon.run(configuration: configuration, tokens: TokenWatcher(logger: logger), logger: logger)
        } catch let error as StoreLock.Failure {
            throw CLI.fail(error.description)
        }
    }
}

struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Gửi một văn bản vào hàng đợi / hand a document to the running daemon.",
        discussion: "Prints the new document's id once the document is durable.")

    @Argument(help: "The document file.") var file: String
    @Option(name: .customLong("to"), help: "Recipient agency code (mã định danh), e.g. 000.00.20.H13. Repeatable.") var recipients: [String] = []
    @Option(help: "Trích yếu / subject.") var subject: String?
    @Option(help: "Số / number.") var number: String?
    @Option(help: "Ký hiệu / notation, e.g. QĐ-UBND.") var notation: String?
    @Option(name: .customLong("type"), help: "Loại văn bản / document type.") var documentType: String?
    @Option(help: "0 Thường, 1 Khẩn, 2 Thượng khẩn, 3 Hỏa tốc, 4 Hỏa tốc hẹn giờ.") var priority: Int?
    @Option(name: .customLong("signer-name"), help: "Người ký / signer's full name.") var signerName: String?
    @Option(name: .customLong("signer-position"), help: "Chức vụ / signer's position.") var signerPosition: String?
    @Flag(help: "The file is already signed.") var signed = false
    @Option(name: .customLong("name"), help: "File name to record (default: the file's own name).") var fileName: String?
    @Option(name: .customLong("idempotency-key"), help: "Retry-safe key: submitting again with it returns the first document.") var idempotencyKey: String?
    @Flag(help: "Print the whole document as JSON.") var json = false
    @OptionGroup var location: Location

    func run() async throws {
        var metadata: [String: Any] = ["file_name": fileName ?? (file as NSString).lastPathComponent, "signed": signed]
        if !recipients.isEmpty { metadata["recipients"] = recipients }
        if let subject { metadata["subject"] = subject }
        if let number { metadata["number"] = number }
        if let notation { metadata["notation"] = notation }
        if let documentType { metadata["document_type"] = documentType }
        if let priority { metadata["priority"] = priority }
        var signer: [String: String] = [:]
        if let signerName { signer["full_name"] = signerName }
        if let signerPosition { signer["position"] = signerPosition }
        if !signer.isEmpty { metadata["signer"] = signer }
        let body = try JSONSerialization.data(withJSONObject: metadata, options: [.sortedKeys])
        guard FileManager.default.isReadableFile(atPath: file) else {
            throw CLI.fail("Không đọc được tệp \"\(file)\". / Cannot read the file \"\(file)\".")
        }
        let view = try await CLI.call {
            let client = LocalAPIClient(socketPath: try location.resolve().socketPath)
            return try await client.submit(file: file, metadataJSON: body, idempotencyKey: idempotencyKey)
        }
        if json { try CLI.printJSON(view) } else { print(view.document.id) }
    }
}

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
                store: { try $0.list(states: states, limit: limit) })
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

struct Inbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Văn bản đến từ cấp trên / incoming documents: list them, or send a status about one.",
        subcommands: [List.self, Reply.self], defaultSubcommand: List.self)

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
                store: { InboxList(inboxFolder: configuration.resolvedInboxFolder, items: try $0.inboundList(limit: limit).map(InboxList.Entry.init)) })
            if list.inboxFolder.isEmpty { list.inboxFolder = configuration.resolvedInboxFolder }
            if json { try CLI.printJSON(list); return }
            print(Table.render(
                header: ["SỐ/HUB ID", "LOẠI/KIND", "NƠI GỬI/FROM", "NHẬN LÚC/RECEIVED", "ĐÃ BÁO 01/STATUS 01", "THƯ MỤC/FOLDER"],
                rows: list.items.map { item in
                    [String(item.hubId), item.kind == "document" ? "văn bản" : "trạng thái", item.from,
                     GatewayJSON.format(item.storedAt).prefix(19).replacingOccurrences(of: "T", with: " "),
                     item.kind == "document" ? (item.statusSentAt == nil ? "chưa / not yet" : "đã / sent") : "",
                     item.folder ?? (item.kind == "document" ? "(chưa / not yet)" : "")]
                }))
            print("\(list.items.count) mục / items; thư mục văn bản đến / inbox folder: \(list.inboxFolder)")
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
            let record: OutgoingStatusRecord
            do {
                record = try await LocalAPIClient(socketPath: configuration.socketPath).sendStatus(hubID: hubID, code: code, description: note, staff: staff)
            } catch let failure as LocalAPIClient.Failure {
                throw CLI.fail(failure.description)
            }
            print("Đã ghi nhận trạng thái \(record.statusCode) cho văn bản đến số \(record.hubID); hộp sẽ gửi lên cấp trên."
                + " / Status \(record.statusCode) recorded for incoming document \(record.hubID); the box will send it to the hub.")
        }
    }
}

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
            store: { DirectoryList(fetchedAt: try $0.directoryFetchedAt(), agencies: try $0.directoryEntries()) })
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

struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Xem một văn bản và lịch sử / one document and its history.")
    @Argument(help: "Document id.") var id: String
    @Flag(help: "JSON output.") var json = false
    @OptionGroup var location: Location

    func run() async throws {
        let configuration = try location.resolve()
        let found: DocumentView? = try await CLI.fromDaemonOrStore(
            configuration,
            daemon: { try await $0.show(id) },
            store: { store in
                guard let documentID = DocumentID(id) else { return nil }
                return try store.document(documentID).map {
                    DocumentView(document: $0, history: try store.history(documentID), statuses: try store.recipientStatuses(documentID))
                }
            })
        guard let view = found else { throw CLI.fail("Không có văn bản mã \(id) / No document with id \(id)") }
        if json { try CLI.printJSON(view); return }
        let document = view.document
        let metadata = document.metadata
        var lines = [
            "Mã văn bản / id:        \(document.id)",
            "Tệp / file:             \(document.fileName) (\(ByteCountText.format(document.size)))",
            "SHA-256:                \(document.sha256)",
            "Trạng thái / state:     \(document.state.rawValue)\(document.stateReason.map { " — \($0)" } ?? "")",
            "Nơi nhận / recipients:  \(metadata.recipients.map(\.rawValue).joined(separator: ", "))",
            "Độ khẩn / priority:     \(metadata.priority.rawValue) \(metadata.priority.vietnameseName)",
            "Nguồn / source:         \(document.source.rawValue)",
            "Nhận lúc / received:    \(GatewayJSON.format(document.receivedAt))",
        ]
        if let subject = metadata.subject { lines.append("Trích yếu / subject:    \(subject)") }
        if metadata.number != nil || metadata.notation != nil {
            lines.append("Số, ký hiệu / number:   \([metadata.number, metadata.notation].compactMap { $0 }.joined(separator: "/"))")
        }
        if let statuses = view.statuses, !statuses.isEmpty {
            lines.append("Nơi nhận báo / statuses from recipients:")
            for status in statuses {
                let name = StatusCode(rawValue: status.statusCode)?.name ?? ""
                lines.append("  \(status.statusTime)  \(status.fromName ?? status.fromCode) (\(status.fromCode))  \(status.statusCode) \(name)"
                    + (status.description.map { " — \($0)" } ?? "") + (status.staff.map { " [\($0)]" } ?? ""))
            }
        }
        lines.append("Lịch sử / history:")
        for line in view.history ?? [] {
            lines.append("  \(GatewayJSON.format(line.at))  \(line.fromState?.rawValue ?? "—") → \(line.toState.rawValue)  \(line.cause)")
        }
        print(lines.joined(separator: "\n"))
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Tình trạng dịch vụ / the daemon's status (exit 3 when it is not running).")
    @Flag(help: "JSON output.") var json = false
    @OptionGroup var location: Location

    func run() async throws {
        let status = try await CLI.call { try await LocalAPIClient(socketPath: try location.resolve().socketPath).status() }
        if json { try CLI.printJSON(status); return }
        var lines = [
            "gatewayd \(status.version), pid \(status.pid), chạy từ / since \(GatewayJSON.format(status.startedAt))",
            "Thư mục dữ liệu / data dir: \(status.dataDirectory)",
            "Tiếp nhận / intake: \(status.intake == "ok" ? "bình thường / ok" : "TẠM DỪNG: bộ nhớ đầy / PAUSED: disk full")",
            "Dung lượng trống / free: \(ByteCountText.format(status.freeBytes)) (dự trữ / reserve \(ByteCountText.format(status.diskReserve)))",
        ]
        if let hot = status.hotFolder {
            lines.append("Thư mục gửi / hot folder: \(hot.folder) — \(hot.waitingFiles) tệp đang chờ / waiting")
        }
        lines.append("Văn bản theo trạng thái / documents by state:")
        for state in DocumentState.allCases {
            lines.append("  \(state.rawValue.padding(toLength: 20, withPad: " ", startingAt: 0)) \(status.documentsByState[state.rawValue] ?? 0)")
        }
        if let relay = status.relay {
            let link = switch relay.link {
            case "up": "đã kết nối / up"
            case "down": "MẤT KẾT NỐI / DOWN"
            default: "chưa thử / not tried yet"
            }
            lines.append("Cấp trên / upstream: \(relay.hub ?? "—") — \(link)\(relay.linkSince.map { " từ / since \(GatewayJSON.format($0))" } ?? "")")
            lines.append("  Gửi thành công gần nhất / last success: \(relay.lastSuccessAt.map(GatewayJSON.format) ?? "—")")
            if let error = relay.lastError {
                lines.append("  Lỗi gần nhất / last error: \(relay.lastErrorAt.map(GatewayJSON.format) ?? "") \(error)")
            }
            lines.append("  Hàng đợi theo độ khẩn / queue by lane:")
            for lane in relay.lanes {
                lines.append("    \(lane.name.padding(toLength: 14, withPad: " ", startingAt: 0)) chờ / queued \(lane.queued), đang gửi / sending \(lane.sending)")
            }
            lines.append("  Đã nhận từ cấp trên / received from the hub: \(relay.inboxReceived)")
            if let warning = relay.warning { lines.append("  CẢNH BÁO / WARNING: \(warning)") }
        } else {
            lines.append("Cấp trên / upstream: chưa cấu hình / not configured")
        }
        if let tokens = status.tokens {
            lines.append("Token ký số / signing tokens" + (tokens.pcscd == "ok" ? ":" : " — DỊCH VỤ THẺ KHÔNG CHẠY / pcscd unavailable:"))
            if tokens.tokens.isEmpty { lines.append("  (chưa cắm token nào / none plugged in)") }
            for token in tokens.tokens {
                let name = token.model.map { "\($0) — " } ?? ""
                lines.append("  \(name)\(token.reader): " + (token.piv ? "PIV" : "không hỗ trợ / unsupported, ATR \(token.atr)"))
                for certificate in token.certificates { lines.append("    slot \(certificate.slot): \(certificate.subject)") }
                if let tries = token.pinTriesLeft { lines.append("    PIN: còn \(tries) lần thử / \(tries) tries left") }
                if let problem = token.problem { lines.append("    \(problem)") }
            }
        }
        print(lines.joined(separator: "\n"))
    }
}

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
                print(report.isClean ? "Kho nhất quán / store is consistent." : "Đã phát hiện vấn đề (xem trên) / problems found (see above).")
            }
            if !report.isClean { throw ExitCode.failure }
        }
    }
}

struct Config: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Tệp cấu hình / the configuration file.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Kiểm tra tệp cấu hình / check a configuration file; every problem with its line and a hint.")
        @Argument(help: "The TOML file.") var file: String

        func run() async throws {
            do {
                let configuration = try ConfigurationLoader.load(path: file)
                print("\(file): OK")
                print("  data_dir = \(configuration.dataDirectory)")
                print("  hot folder = \(configuration.intake.hotFolderEnabled ? configuration.hotFolderPath : "off")")
                print("  socket = \(configuration.socketPath)\(configuration.api.tcpAddress.map { ", tcp = \($0)" } ?? "")")
                print("  max_document_size = \(ByteCountText.format(configuration.intake.maximumDocumentSize)), disk_reserve = \(ByteCountText.format(configuration.intake.diskReserve))")
                let upstream = configuration.upstream
                if let url = upstream.url {
                    print("  upstream = \(url), ca_file = \(upstream.caFile ?? "—"), certificate = \(upstream.certificateFile ?? "—")")
                    print("  max_queue_age = \(upstream.maximumQueueAge.components.seconds) s, retry \(upstream.retryBase) … \(upstream.retryCap)"
                          + (upstream.hubKeyPin != nil ? ", hub_key_sha256 set (not enforced yet)" : ""))
                    if configuration.agency.code == nil { print("  WARNING: agency.code is not set: the relay will not start") }
                } else {
                    print("  upstream = none (documents stay on this box)")
                }
            } catch let errors as ConfigurationErrors {
                throw CLI.fail(errors.description)
            }
        }
    }
}

/// Plain aligned columns for terminals (widths by characters, so Vietnamese lines up).
enum Table {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in min(48, all.map { $0[column].count }.max() ?? 0) }
        return all.map { row in
            row.enumerated().map { column, cell in
                let text = cell.count > widths[column] ? String(cell.prefix(widths[column] - 1)) + "…" : cell
                return column == row.count - 1 ? text : text.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
