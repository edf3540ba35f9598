// `gatewayd edxml …`: build, read, sign and check edXML packages (QCVN 102:2016).
import ArgumentParser
import DocumentModel
import EdXML
import Foundation
import GatewayCore
import Signing
import X509

struct EdXMLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edxml",
        abstract: "Gói tin edXML (QCVN 102:2016) / edXML packages.",
        subcommands: [Pack.self, Show.self, Unpack.self, StatusCommand.self, Verify.self])

    /// `--signer KEY.pem --cert CHAIN.pem`: a software key (development, tests, the demo).
    struct SignerOptions: ParsableArguments {
        @Option(name: .customLong("signer"), help: "Private key (PEM) to sign the package with.") var keyFile: String?
        @Option(name: .customLong("cert"), help: "Certificate chain (PEM): the signer's certificate first.") var chainFile: String?

        func signer() throws -> (any Signer)? {
            switch (keyFile, chainFile) {
            case (nil, nil): return nil
            case (let key?, let chain?):
                do { return try SoftwareKeySigner(keyFile: key, chainFile: chain) } catch let error as SignerError {
                    throw CLI.fail(error.description)
                }
            default:
                throw ValidationError("--signer và --cert phải đi cùng nhau / --signer and --cert go together")
            }
        }
    }

    static func run<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as EdXMLError {
            throw CLI.fail(error.description)
        }
    }

    struct Pack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Đóng gói văn bản / build a document package from files.")
        @Option(name: .customLong("from"), help: "Sender's agency code (mã định danh), e.g. 000.00.20.H13.") var from: String
        @Option(name: .customLong("from-name"), help: "Sender's name.") var fromName: String?
        @Option(name: .customLong("to"), help: "Recipient agency code. Repeatable.") var to: [String] = []
        @Option(help: "Trích yếu / subject.") var subject: String
        @Option(help: "Số / number.") var number: String
        @Option(help: "Ký hiệu / notation, e.g. QĐ-UBND.") var notation: String
        @Option(name: .customLong("type"), help: "Tên loại văn bản / document type name, e.g. Quyết định.") var typeName: String?
        @Option(help: "0 Thường, 1 Khẩn, 2 Thượng khẩn, 3 Hỏa tốc, 4 Hỏa tốc hẹn giờ.") var priority: Int?
        @Option(help: "Ngày ban hành / promulgation date yyyy/MM/dd (default: today in Vietnam).") var date: String?
        @Option(name: .customLong("signer-name"), help: "Người ký / signer's full name.") var signerName: String?
        @Option(name: .customLong("signer-position"), help: "Chức vụ / signer's position.") var signerPosition: String?
        @Argument(help: "Files to attach.") var files: [String] = []
        @Option(help: "Output package file.") var out: String
        @OptionGroup var signing: SignerOptions

        func validate() throws {
            if to.isEmpty { throw ValidationError("cần ít nhất một --to / at least one --to is required") }
            if files.isEmpty { throw ValidationError("cần ít nhất một tệp / at least one file is required") }
            if let priority, Priority(rawValue: priority) == nil { throw ValidationError("--priority: 0–4") }
        }

        func run() async throws {
            let signer = try signing.signer()
            let date = date ?? EdXMLDate(Date()).description
            let code = DocumentCode(number: number, notation: notation)
            let attachments = files.map { path in
                AttachmentInfo(contentId: UUID().uuidString.lowercased(), name: (path as NSString).lastPathComponent,
                               contentType: Self.contentType(of: path))
            }
            let package = DocumentPackage(
                header: MessageHeader(
                    from: Organization(organId: from, organName: fromName),
                    to: to.map { Organization(organId: $0) },
                    code: code,
                    promulgationInfo: PromulgationInfo(date: date),
                    documentType: DocumentType(typeName: typeName),
                    subject: subject,
                    signerInfo: (signerName != nil || signerPosition != nil) ? SignerInfo(position: signerPosition, fullName: signerName) : nil,
                    otherInfo: OtherInfo(priority: priority ?? 0),
                    documentId: MessageHeader.composedDocumentId(from: from, date: date, code: code)),
                traces: [TraceHeader(organId: from, timestamp: EdXMLTimestamp(Date()).description)],
                business: Business(docType: .new),
                attachments: attachments)
            try await EdXMLCommand.run {
                try await PackageWriter.write(package, attachmentFiles: files, to: out, signer: signer)
            }
            print(out)
        }

        static func contentType(of path: String) -> String { AttachmentInfo.contentType(forFileName: path) }
    }

    /// What `show --json` and `unpack` (edxml.json) print.
    struct PackageView: Encodable {
        var kind: String
        var document: DocumentPackage?
        var status: StatusPackage?
        var findings: [Finding]
        var attachments: [ReceivedAttachment]
        var signatures: [SignatureCheck]?

        init(_ result: ReadResult) {
            switch result.package {
            case .document(let document): kind = "document"; self.document = document
            case .status(let status): kind = "status"; self.status = status
            }
            findings = result.findings
            attachments = result.attachments
            signatures = result.signatures
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Xem gói tin / show a package's content, findings, attachments and signatures.")
        @Argument(help: "The package file.") var package: String
        @Flag(help: "JSON output.") var json = false

        func run() async throws {
            let result = try await EdXMLCommand.run { try await PackageReader.read(path: package, checkSignatures: true) }
            if json { try CLI.printJSON(PackageView(result)); return }
            switch result.package {
            case .document(let document):
                let h = document.header
                print("Văn bản / document \(h.code) — \(h.documentType.typeName ?? h.documentType.type ?? "")")
                print("  Trích yếu / subject: \(h.subject)")
                print("  Từ / from: \(h.from.organId) \(h.from.organName ?? "")")
                for to in h.to { print("  Đến / to: \(to.organId) \(to.organName ?? "")") }
                print("  Ngày / date: \(h.promulgationInfo.date ?? "—"); mã / DocumentId: \(h.documentId ?? "—")")
                if let priority = h.otherInfo.priority { print("  Độ khẩn / priority: \(Priority(rawValue: priority)?.vietnameseName ?? "\(priority)")") }
                if let business = document.business { print("  Nghiệp vụ / business: \(business.docType)") }
                for attachment in result.attachments {
                    print("  Tệp / file: \(attachment.info.name) (\(attachment.info.contentType), \(attachment.size) bytes, sha256 \(attachment.sha256))")
                }
            case .status(let status):
                print("Trạng thái / status \(status.statusCode) từ / from \(status.from.organId) lúc / at \(status.timestamp)")
                print("  Về văn bản / for: \(status.responseFor.documentId ?? status.responseFor.code ?? "")")
                if let description = status.description { print("  Mô tả / description: \(description)") }
            }
            for finding in result.findings { print("  ! \(finding)") }
            Verify.printSignatures(result.signatures ?? [])
        }
    }

    struct Unpack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Giải nén gói tin / decode a package's attachments into a directory.",
            discussion: "Writes each attachment under its own (sanitised) name and the metadata as edxml.json.")
        @Argument(help: "The package file.") var package: String
        @Option(help: "Directory to write into (created if missing).") var dir: String

        func run() async throws {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw CLI.fail("Không tạo được thư mục / cannot create \(dir): \(error.localizedDescription)")
            }
            let result = try await EdXMLCommand.run { try await PackageReader.read(path: package, unpackTo: dir) }
            let data = try GatewayJSON.encoder.encode(PackageView(result))
            try data.write(to: URL(fileURLWithPath: dir).appendingPathComponent("edxml.json"))
            for attachment in result.attachments { print(attachment.path ?? attachment.info.name) }
            for finding in result.findings { FileHandle.standardError.write(Data("! \(finding)\n".utf8)) }
        }
    }

    struct StatusCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Tạo gói tin trạng thái / build a status package replying to a received document.")
        @Option(name: .customLong("for"), help: "The document package the status is about.") var document: String
        @Option(help: "Two-digit status code: 01 arrived, 02 refused, 03 accepted, 04 assigned, 05 in progress, 06 finished, 13, 15, 16.") var code: String
        @Option(name: .customLong("from"), help: "Our agency code (default: the document's first recipient).") var from: String?
        @Option(help: "Mô tả / description (the reason, for 02).") var description: String?
        @Option(help: "Người xử lý / staff name.") var staff: String?
        @Option(help: "Output status package.") var out: String
        @OptionGroup var signing: SignerOptions

        func run() async throws {
            guard let statusCode = StatusCode(rawValue: code) else { throw ValidationError("--code: hai chữ số / two digits, e.g. 01") }
            let signer = try signing.signer()
            let result = try await EdXMLCommand.run { try await PackageReader.read(path: document) }
            guard case .document(let original) = result.package else {
                throw CLI.fail("\(document) là gói tin trạng thái, không phải văn bản / is a status package, not a document")
            }
            let h = original.header
            let status = StatusPackage(
                from: Organization(organId: from ?? h.to[0].organId),
                responseFor: ResponseFor(organId: h.from.organId, code: h.code.description, promulgationDate: h.promulgationInfo.date,
                                         documentId: h.documentId),
                staffInfo: staff.map { StaffInfo(staff: $0) },
                statusCode: statusCode, description: description ?? statusCode.name,
                timestamp: EdXMLTimestamp(Date()).description)
            try await EdXMLCommand.run { try await PackageWriter.write(status, to: out, signer: signer) }
            print(out)
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Kiểm tra chữ ký số của gói tin / check a package's XML signatures.",
            discussion: "Exit status 0 when the package is signed and every signature is valid (or weak: SHA-1, with a warning) and, with --trust, chains to one of the roots; 1 otherwise.")
        @Argument(help: "The package file.") var package: String
        @Option(help: "Trusted root certificates (PEM, one or more).") var trust: String?

        func run() async throws {
            var roots: [Certificate]?
            if let trust {
                do {
                    let pem = try String(contentsOfFile: trust, encoding: .utf8)
                    roots = try SignatureVerifier.certificates(fromPEM: pem)
                } catch {
                    throw CLI.fail("Không đọc được chứng thư gốc / cannot read the trusted roots \(trust): \(error)")
                }
            }
            let result = try await EdXMLCommand.run { try await PackageReader.read(path: package, checkSignatures: true, trustRoots: roots) }
            let signatures = result.signatures ?? []
            Self.printSignatures(signatures)
            if signatures.isEmpty { throw CLI.fail("Gói tin chưa ký / the package is not signed") }
            let bad = signatures.contains { $0.outcome == .invalid || (roots != nil && $0.trust != .trusted) }
            if bad { throw ExitCode.failure }
        }

        static func printSignatures(_ signatures: [SignatureCheck]) {
            if signatures.isEmpty { print("Chữ ký / signature: không có / none") }
            for check in signatures {
                let outcome = switch check.outcome {
                case .valid: "HỢP LỆ / VALID"
                case .weak: "HỢP LỆ NHƯNG YẾU (SHA-1) / VALID BUT WEAK (SHA-1)"
                case .invalid: "KHÔNG HỢP LỆ / INVALID"
                }
                print("Chữ ký / signature: \(outcome)")
                if let signer = check.signer { print("  Người ký / signer: \(signer)") }
                if let method = check.signatureMethod { print("  Thuật toán / method: \(method)") }
                switch check.trust {
                case .trusted: print("  Chuỗi chứng thư: tin cậy / chain: trusted")
                case .untrusted: print("  Chuỗi chứng thư: KHÔNG tin cậy / chain: NOT trusted\(check.trustDetail.map { " (\($0))" } ?? "")")
                case .notChecked: break
                }
                for reason in check.reasons { print("  \(reason)") }
            }
        }
    }
}
