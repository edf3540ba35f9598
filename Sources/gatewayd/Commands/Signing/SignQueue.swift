// `gatewayd sign-queue`: a signing session on the box — the person present types the PIN, the
// daemon signs the documents waiting for their role on the plugged-in token (docs/signing.md).
import ArgumentParser
import Foundation
import GatewayCore
import SigningPolicy
#if canImport(Glibc)
import Glibc
#endif

struct SignQueue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign-queue",
        abstract: "Mở phiên ký: ký các văn bản đang chờ bằng token / open a signing session: sign the waiting documents on the token.",
        discussion: """
            --role leader: the leader signs the documents in awaiting_leader with their own token; \
            --role organization: the văn thư gives each document in awaiting_seal its number from the \
            register and applies the organization's seal (its token), and the envelope is signed and \
            queued. The PIN is asked at the terminal (not shown), or read from standard input when \
            that is not a terminal; never from a file. A wrong PIN stops the session (tries left are \
            shown); the last try is used only with --confirm-last-try.
            """)

    @Option(help: "leader hoặc / or organization.") var role: String
    @Option(help: "Reader that holds the token (default: the one reader with a token).") var reader: String?
    @Option(name: [.customLong("key"), .customLong("slot")],
            help: "The token's key: PIV slot 9a, 9c, 9d or 9e (default 9c), or a PKCS#11 key's pkcs11: URI (pkcs11:token=…;id=%01, as `gatewayd token list --module` shows it).")
    var slot: String?
    @Flag(name: .customLong("confirm-last-try"), help: "Use the token's last PIN try (otherwise refused).") var confirmLastTry = false
    @Flag(help: "JSON output (the session's final status).") var json = false
    @Argument(help: "Document ids (default: every document waiting for this role).") var ids: [String] = []
    @OptionGroup var location: Location

    func run() async throws {
        guard let role = SigningRole(rawValue: role), role == .leader || role == .organization else {
            throw CLI.fail("--role: leader hoặc / or organization")
        }
        var documents: [DocumentID] = []
        for id in ids {
            guard let parsed = DocumentID(id) else { throw CLI.fail("Mã văn bản không hợp lệ / not a document id: \(id)") }
            documents.append(parsed)
        }
        let configuration = try location.resolve()
        let client = LocalAPIClient(socketPath: configuration.socketPath)
        let request = SigningSessionRequest(role: role, documents: documents, reader: reader, key: slot, confirmLastTry: confirmLastTry,
                                            openedBy: "gatewayd sign-queue (\(CLI.user))")
        var pin = try Self.readPIN()
        var status: SigningSessionStatus
        do { status = try await client.openSigningSession(request, pin: &pin) } catch let error as LocalAPIClient.Failure {
            if case .daemonNotRunning = error { throw CLI.fail(error.description, code: CLI.daemonNotRunning) }
            throw CLI.fail("Không mở được phiên ký / the session was not opened:\n\(error.description)")
        }
        if !json {
            print("Phiên ký / session \(status.id): \(status.signer) (\(status.identity)), \(status.token)")
            for warning in status.warnings { print("Cảnh báo / warning: \(warning)") }
            print("\(status.total) văn bản / documents")
        }
        var shown = 0
        while true {
            if !json {
                for (index, result) in status.results.enumerated().dropFirst(shown) {
                    print(Self.line(result, index: index, total: status.total))
                }
            }
            shown = status.results.count
            if status.phase != .signing { break }
            let id = status.id
            status = try await CLI.call { try await client.signingSession(id, after: shown, wait: 30) }
        }
        if json { try CLI.printJSON(status) }
        let signed = status.results.filter { $0.outcome == .signed }.count
        if !json {
            print("Đã ký / signed: \(signed)/\(status.total)")
            if let message = status.stopMessage { print("Phiên ký dừng / the session stopped: \(message)") }
        }
        if status.phase == .stopped || signed < status.total { throw ExitCode.failure }
    }

    static func line(_ result: SigningSessionStatus.DocumentResult, index: Int, total: Int) -> String {
        let what = "văn bản \(index + 1)/\(total) — \(result.subject ?? result.document.description)"
        switch result.outcome {
        case .signed: return "\(what): đã ký / signed" + (result.number.map { ", số / number \($0)" } ?? "")
        case .refused: return "\(what): không ký / refused — \(result.message ?? "")"
        case .notSigned: return "\(what): chưa ký / not signed"
        }
    }

    /// At a terminal without echo; from standard input otherwise (a script, a test): the first line.
    static func readPIN() throws -> [UInt8] {
        if isatty(STDIN_FILENO) != 0 {
            guard let entered = getpass("Mã PIN / PIN: ") else { throw CLI.fail("Không đọc được mã PIN / no PIN entered") }
            let count = strlen(entered)
            let bytes = Array(UnsafeBufferPointer(start: UnsafeRawPointer(entered).assumingMemoryBound(to: UInt8.self), count: count))
            memset(entered, 0, count)  // getpass's static buffer
            return bytes
        }
        var bytes: [UInt8] = []
        while let byte = readByte(), byte != UInt8(ascii: "\n") {
            if byte != UInt8(ascii: "\r") { bytes.append(byte) }
            if bytes.count > 64 { break }
        }
        guard !bytes.isEmpty else { throw CLI.fail("Không có mã PIN trên đầu vào chuẩn / no PIN on standard input") }
        return bytes
    }

    static func readByte() -> UInt8? {
        var byte: UInt8 = 0
        return read(STDIN_FILENO, &byte, 1) == 1 ? byte : nil
    }
}
