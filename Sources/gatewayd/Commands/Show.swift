// `gatewayd show`: one document, its history and its recipients' statuses.
import ArgumentParser
import DocumentModel
import EdXML
import Foundation
import GatewayCore
import TimeJSON

struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Xem một văn bản và lịch sử / one document and its history.")
    @Argument(help: "Document id, or an incoming document's number (SỐ/HUB ID in gatewayd inbox).") var id: String
    @Flag(help: "JSON output.") var json = false
    @OptionGroup var location: Location

    func run() async throws {
        let configuration = try location.resolve()
        if let hubID = Int64(id) { return try await showIncoming(hubID, configuration) }
        let found: DocumentView? = try await CLI.fromDaemonOrStore(
            configuration,
            daemon: { try await $0.show(id) },
            store: { queries in try DocumentID(id).flatMap(queries.document) })
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
        if let number = document.registerNumber {
            lines.append("Số, ký hiệu / number:   \(number.reference)")
        } else if metadata.number != nil || metadata.notation != nil {
            lines.append("Số, ký hiệu / number:   \([metadata.number, metadata.notation].compactMap { $0 }.joined(separator: "/"))")
        }
        if let number = document.registerNumber {
            lines.append("Sổ văn bản đi / register: số \(number.reference), \(number.vietnameseDate)")
        }
        if document.version > 0 { lines.append("Phiên bản / version:    \(document.version) (bản gốc và các bản trước được giữ / earlier versions kept)") }
        if let signatures = view.signatures, !signatures.isEmpty {
            lines.append("Chữ ký trên hộp / signatures made on the box:")
            for signature in signatures {
                lines.append("  \(GatewayJSON.format(signature.signedAt))  \(signature.role.rawValue)  \(signature.signer) (\(signature.identity))  "
                    + "v\(signature.version)  thu hồi / revocation: \(signature.revocation)  [\(signature.token)]")
            }
        }
        if let attachments = view.attachments, !attachments.isEmpty {
            lines.append("Tệp đính kèm / attachments:")
            for attachment in attachments {
                let signature = switch (attachment.signedAt, attachment.signatureFile) {
                case (nil, _): "chưa ký / not signed"
                case (let at?, nil): "đã ký / signed \(GatewayJSON.format(at)) (PAdES, v\(attachment.version))"
                case (let at?, _?): "đã ký / signed \(GatewayJSON.format(at)) (\(attachment.fileName).p7s)"
                }
                lines.append("  \(attachment.position). \(attachment.fileName) (\(ByteCountText.format(attachment.size)))  \(signature)")
            }
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

extension Show {
    /// An incoming document: where it came from, where the clerks find it, and its signatures'
    /// verdict with the reasons and the history of re-checks.
    func showIncoming(_ hubID: Int64, _ configuration: GatewayConfiguration) async throws {
        let found: InboxList.Entry? = try await CLI.fromDaemonOrStore(
            configuration, daemon: { try await $0.inboxItem(hubID: hubID) }, store: { try $0.inboxItem(hubID: hubID) })
        guard let item = found else { throw CLI.fail("Không có văn bản đến số \(hubID) / No incoming document \(hubID)") }
        if json { try CLI.printJSON(item); return }
        var lines = [
            "Số nhận trên hub / hub id: \(item.hubId) (\(item.kind == .document ? "văn bản / document" : "trạng thái / status"))",
            "Mã / key:                  \(item.key)",
            "Nơi gửi / from:            \(item.from)",
            "Nhận lúc / received:       \(GatewayJSON.format(item.storedAt))",
            "Kích thước / size:         \(ByteCountText.format(item.size))",
        ]
        if item.kind == .document {
            lines.append("Đã báo 01 / status 01:     \(item.statusSentAt.map(GatewayJSON.format) ?? "chưa / not yet")")
            lines.append("Thư mục / folder:          \(item.folder ?? "(chưa / not yet)")")
        }
        if let verdict = item.verdict {
            lines += verdict.lines
            lines.append("Kiểm tra lúc / checked at: \(GatewayJSON.format(verdict.checkedAt))")
            if !verdict.history.isEmpty { lines.append("Lịch sử kiểm tra / re-checks:") }
            lines += verdict.history.map { "  " + $0 }
        }
        print(lines.joined(separator: "\n"))
    }
}
