import DocumentModel
import Foundation
import SigningPolicy

/// What the clerk (or the commune's software) says about a document: where it goes and what it
/// is. The same object arrives as the local API's `X-Gateway-Metadata` header and as the hot
/// folder's JSON sidecar; `MetadataParser` turns either into this value or an `IntakeError`.
package struct DocumentMetadata: Sendable, Codable, Equatable {
    package struct Signer: Sendable, Codable, Equatable {
        package var fullName: String?
        package var position: String?
        package var competence: String?

        package init(fullName: String? = nil, position: String? = nil, competence: String? = nil) {
            self.fullName = fullName
            self.position = position
            self.competence = competence
        }

        enum CodingKeys: String, CodingKey {
            case fullName = "full_name", position, competence
        }
    }

    package var recipients: [AgencyCode]
    package var subject: String?
    package var number: String?
    package var notation: String?
    package var documentType: String?
    package var priority: Priority
    package var signer: Signer?
    package var signed: Bool
    /// The signatures the document needs on the box, in signing order (`"signatures"`, resolved
    /// at intake against `[signing] signatures`, so a later change of the configuration does not
    /// change what an accepted document needs). nil in documents stored before it existed: both.
    package var signatures: [SigningRole]?
    /// Where the leader's signature goes on this document, when the preset (the lower right of
    /// the last page) does not fit its layout: a 1-based page, and x, y, width, height in points
    /// from the page's lower left. The seal follows the leader's image.
    package var page: Int?
    package var rect: [Double]?
    /// The attachments (phụ lục) that travel with the document, by file name, in their order
    /// (`"attachments"`): NFC, each a valid file name, unique, at most 20. nil when none.
    package var attachments: [String]?

    package init(
        recipients: [AgencyCode], subject: String? = nil, number: String? = nil, notation: String? = nil,
        documentType: String? = nil, priority: Priority = .normal, signer: Signer? = nil, signed: Bool = false,
        signatures: [SigningRole]? = nil, attachments: [String]? = nil
    ) {
        self.signatures = signatures
        self.attachments = attachments
        self.recipients = recipients
        self.subject = subject
        self.number = number
        self.notation = notation
        self.documentType = documentType
        self.priority = priority
        self.signer = signer
        self.signed = signed
    }

    enum CodingKeys: String, CodingKey {
        case recipients, subject, number, notation, documentType = "document_type", priority, signer, signed, signatures, page, rect, attachments
    }

    /// The attachments' names, in order (none: empty).
    package var attachmentNames: [String] { attachments ?? [] }

    /// The signatures needed, in order.
    package var requiredSignatures: [SigningRole] { signatures ?? SigningFlow.order }

    /// Where the document stands in the signing flow, given the roles already signed.
    package func signingFlow(done: [SigningRole] = []) throws(SigningRefusal) -> SigningFlow {
        try SigningFlow(signatures: requiredSignatures.map(\.rawValue), done: done)
    }
}

/// Field length limits of Decree 30/2020/NĐ-CP, Appendix VI (the edXML fields these feed).
enum MetadataLimits {
    static let subject = 500        // Subject (trích yếu)
    static let number = 11          // CodeNumber (số)
    static let notation = 30        // CodeNotation (ký hiệu)
    static let documentType = 100   // TypeName
    static let fullName = 50        // SignerInfo/FullName
    static let position = 100       // SignerInfo/Position
    static let competence = 100     // SignerInfo/Competence
    static let recipients = 100     // not in the decree: a sanity bound on one submission
    static let attachments = 20     // not in the decree: a sanity bound on one document's phụ lục
}

/// Strict reading of the metadata JSON: unknown keys and wrong types are refused with the field
/// named, because a typo in a key ("recipient") must not silently drop where a document goes.
package struct MetadataParser: Sendable {
    /// Recipients used when the submission names none (`intake.default_recipients`).
    package var defaultRecipients: [AgencyCode]
    /// Where a recipient given by name (not a code) is looked up; without one, only codes.
    package var directory: (any AgencyDirectorySource)?
    /// Signatures a document needs when it names none (`[signing] signatures`).
    package var defaultSignatures: [SigningRole]

    package init(defaultRecipients: [AgencyCode] = [], directory: (any AgencyDirectorySource)? = nil,
                 defaultSignatures: [SigningRole] = SigningFlow.order) {
        self.defaultRecipients = defaultRecipients
        self.directory = directory
        self.defaultSignatures = defaultSignatures
    }

    /// The result of parsing: the metadata, and the file name when the JSON carried one (API).
    package struct Parsed: Sendable, Equatable {
        package var metadata: DocumentMetadata
        package var fileName: String?
    }

    static let knownKeys: Set<String> = [
        "file_name", "recipients", "subject", "number", "notation", "document_type", "priority", "signer", "signed", "signatures",
        "page", "rect", "attachments",
    ]
    static let signerKeys: Set<String> = ["full_name", "position", "competence"]

    /// A mistyped code (digits and dots) is reported as a bad code, not looked up as a name.
    static func looksLikeACode(_ text: String) -> Bool {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        return !trimmed.isEmpty && trimmed.unicodeScalars.filter { CharacterSet.decimalDigits.contains($0) || $0 == "." }.count * 2 > trimmed.unicodeScalars.count
    }

    /// Parses UTF-8 JSON bytes. `nil` or empty means "no metadata given".
    package func parse(_ json: [UInt8]?) throws(IntakeError) -> Parsed {
        guard let json, !json.isEmpty else { return try build(from: [:]) }
        guard String(validating: json, as: UTF8.self) != nil else {
            throw .invalidMetadata("không phải văn bản UTF-8", "not UTF-8 text")
        }
        guard let value = JSONValue.parse(json) else {
            throw .invalidMetadata("không phải JSON hợp lệ", "not valid JSON")
        }
        guard case .object(let object) = value else {
            throw .invalidMetadata("phải là một đối tượng JSON {…}", "must be a JSON object {…}")
        }
        return try build(from: object)
    }

    func build(from object: [String: JSONValue]) throws(IntakeError) -> Parsed {
        if let unknown = object.keys.sorted().first(where: { !Self.knownKeys.contains($0) }) {
            throw .invalidMetadata("khóa không được hỗ trợ \"\(unknown)\"", "unknown key \"\(unknown)\"", field: unknown)
        }
        let fileName = try string(object, "file_name")
        var recipients: [AgencyCode] = []
        let list: [JSONValue]
        switch object["recipients"] ?? .null {
        case .null: list = []
        case .string(let one): list = [.string(one)]  // a single code as plain text is a common slip
        case .array(let many): list = many
        default:
            throw .invalidMetadata("\"recipients\" phải là danh sách mã định danh", "\"recipients\" must be a list of agency codes", field: "recipients")
        }
        guard list.count <= MetadataLimits.recipients else {
            throw .invalidMetadata("quá nhiều cơ quan nhận (tối đa \(MetadataLimits.recipients))", "too many recipients (at most \(MetadataLimits.recipients))", field: "recipients")
        }
        for (index, item) in list.enumerated() {
            let field = "recipients[\(index)]"
            guard case .string(let text) = item else { throw .invalidAgencyCode(item.textForMessage, field: field) }
            let code: AgencyCode
            if let parsed = AgencyCode(text.trimmingCharacters(in: .whitespaces)) {
                code = parsed
            } else if let directory, !Self.looksLikeACode(text) {
                // A name, as a clerk would write it: looked up in the hub's directory.
                let entries: [AgencyDirectory.Entry]
                do { entries = try directory.directoryEntries() } catch { throw .storeUnavailable("\(error)") }
                switch AgencyDirectory.resolve(text, in: entries) {
                case .found(let found): code = found
                case .unknown(let suggestions): throw .unknownAgencyName(text, suggestions: suggestions, ambiguous: false, field: field)
                case .ambiguous(let entries): throw .unknownAgencyName(text, suggestions: entries, ambiguous: true, field: field)
                }
            } else {
                throw .invalidAgencyCode(text, field: field)
            }
            if !recipients.contains(code) { recipients.append(code) }
        }
        if recipients.isEmpty { recipients = defaultRecipients }
        guard !recipients.isEmpty else { throw .missingRecipients }

        let priority = try Self.priority(object["priority"] ?? .null)
        var signer: DocumentMetadata.Signer?
        switch object["signer"] ?? .null {
        case .null: break
        case .object(let fields):
            if let unknown = fields.keys.sorted().first(where: { !Self.signerKeys.contains($0) }) {
                throw .invalidMetadata("khóa không được hỗ trợ \"signer.\(unknown)\"", "unknown key \"signer.\(unknown)\"", field: "signer.\(unknown)")
            }
            signer = DocumentMetadata.Signer(
                fullName: try text(fields, "full_name", field: "signer.full_name", nameVi: "Họ tên người ký", limit: MetadataLimits.fullName),
                position: try text(fields, "position", field: "signer.position", nameVi: "Chức vụ người ký", limit: MetadataLimits.position),
                competence: try text(fields, "competence", field: "signer.competence", nameVi: "Thẩm quyền ký", limit: MetadataLimits.competence))
        default:
            throw .invalidMetadata("\"signer\" phải là một đối tượng", "\"signer\" must be an object", field: "signer")
        }
        var signed = false
        switch object["signed"] ?? .null {
        case .null: break
        case .bool(let value): signed = value
        default: throw .invalidMetadata("\"signed\" phải là true hoặc false", "\"signed\" must be true or false", field: "signed")
        }
        let signatures = try Self.signatures(object["signatures"] ?? .null, defaults: defaultSignatures)
        let attachments = try Self.attachments(object["attachments"] ?? .null)
        var page: Int?
        switch object["page"] ?? .null {
        case .null: break
        case .integer(let value) where (1...10_000).contains(value): page = Int(value)
        default: throw .invalidMetadata("\"page\" phải là số trang (1, 2, …)", "\"page\" must be a page number (1, 2, …)", field: "page")
        }
        var rect: [Double]?
        switch object["rect"] ?? .null {
        case .null: break
        case .array(let items):
            let numbers = items.compactMap { item -> Double? in
                switch item {
                case .integer(let value): Double(value)
                case .number(let value): value
                default: nil
                }
            }
            guard numbers.count == 4, items.count == 4, numbers.allSatisfy({ $0.isFinite && $0 >= 0 && $0 < 20_000 }), numbers[2] > 0, numbers[3] > 0 else {
                fallthrough
            }
            rect = numbers
        default:
            throw .invalidMetadata("\"rect\" phải là [x, y, rộng, cao] (điểm, từ góc dưới trái trang)",
                                   "\"rect\" must be [x, y, width, height] (points, from the page's lower left)", field: "rect")
        }
        var metadata = DocumentMetadata(
            recipients: recipients,
            subject: try text(object, "subject", field: "subject", nameVi: "Trích yếu", limit: MetadataLimits.subject),
            number: try text(object, "number", field: "number", nameVi: "Số", limit: MetadataLimits.number),
            notation: try text(object, "notation", field: "notation", nameVi: "Ký hiệu", limit: MetadataLimits.notation),
            documentType: try text(object, "document_type", field: "document_type", nameVi: "Loại văn bản", limit: MetadataLimits.documentType),
            priority: priority, signer: signer, signed: signed, signatures: signatures,
            attachments: attachments.isEmpty ? nil : attachments)
        (metadata.page, metadata.rect) = (page, rect)
        return Parsed(metadata: metadata, fileName: fileName)
    }

    /// `"signatures": ["leader", "organization"]` (or one word as text), checked by the signing
    /// flow's own rules (the organization's signature is always needed) and stored resolved.
    static func signatures(_ raw: JSONValue, defaults: [SigningRole]) throws(IntakeError) -> [SigningRole] {
        let words: [String]?
        switch raw {
        case .null: words = nil
        case .string(let one): words = [one]
        case .array(let many):
            var list: [String] = []
            for item in many {
                guard case .string(let word) = item else {
                    throw .invalidMetadata("\"signatures\" phải là danh sách: leader, organization", "\"signatures\" must be a list of leader, organization", field: "signatures")
                }
                list.append(word)
            }
            words = list
        default:
            throw .invalidMetadata("\"signatures\" phải là danh sách: leader, organization", "\"signatures\" must be a list of leader, organization", field: "signatures")
        }
        do {
            return try SigningFlow(signatures: words, defaults: defaults).required
        } catch {
            throw .invalidMetadata(error.vietnamese, error.english, field: "signatures")
        }
    }

    /// `"attachments": ["Phụ lục 1.pdf", "Bảng số liệu.xlsx"]`: each name as `FileNameRule` allows
    /// it (NFC), none twice, at most `MetadataLimits.attachments`. A name the hot folder would never
    /// take (work in progress, a sidecar, an error file: `HotFolderIntake.isCandidate`) is refused
    /// at every door, so a document named with it could not wait for ever in the folder.
    static func attachments(_ raw: JSONValue) throws(IntakeError) -> [String] {
        let list: [JSONValue]
        switch raw {
        case .null: return []
        case .array(let many): list = many
        default:
            throw .invalidMetadata("\"attachments\" phải là danh sách tên tệp", "\"attachments\" must be a list of file names", field: "attachments")
        }
        guard list.count <= MetadataLimits.attachments else {
            throw .invalidMetadata("quá nhiều tệp đính kèm (tối đa \(MetadataLimits.attachments))",
                                   "too many attachments (at most \(MetadataLimits.attachments))", field: "attachments")
        }
        var names: [String] = []
        for (index, item) in list.enumerated() {
            let field = "attachments[\(index)]"
            guard case .string(let text) = item else {
                throw .invalidMetadata("\"\(field)\" phải là tên tệp", "\"\(field)\" must be a file name", field: field)
            }
            let name: String
            do { name = try FileNameRule.validate(text) } catch {
                throw .invalidMetadata("\"\(field)\": \(error.messageVi)", "\"\(field)\": \(error.messageEn)", field: field)
            }
            guard HotFolderIntake.isCandidate(Array(name.utf8)) else {
                throw .invalidMetadata("\"\(field)\": tên \"\(name)\" là tên tệp tạm hoặc tệp mô tả (.json), không dùng làm tệp đính kèm được",
                                       "\"\(field)\": \"\(name)\" is a work-in-progress or sidecar name (.json) and cannot be an attachment", field: field)
            }
            guard !names.contains(name) else {
                throw .invalidMetadata("\"\(field)\": tệp \"\(name)\" được kể hai lần", "\"\(field)\": \"\(name)\" is named twice", field: field)
            }
            names.append(name)
        }
        return names
    }

    static func priority(_ raw: JSONValue) throws(IntakeError) -> Priority {
        switch raw {
        case .null: return .normal
        case .integer(let value):
            guard let priority = Priority(rawValue: Int(clamping: value)) else { throw .unknownPriority(String(value)) }
            return priority
        case .string(let text):
            // Forms and spreadsheets often send numbers as text: "2" is as clear as 2.
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)), let priority = Priority(rawValue: value) else {
                throw .unknownPriority(text)
            }
            return priority
        default:
            throw .unknownPriority(raw.textForMessage)
        }
    }

    func string(_ object: [String: JSONValue], _ key: String, field: String? = nil) throws(IntakeError) -> String? {
        let field = field ?? key
        switch object[key] ?? .null {
        case .null: return nil
        case .string(let text): return text.precomposedStringWithCanonicalMapping
        default: throw .invalidMetadata("\"\(field)\" phải là chuỗi ký tự", "\"\(field)\" must be a string", field: field)
        }
    }

    /// A text field: NFC-normalised (clients on some systems send decomposed Vietnamese, and the
    /// limits count characters as a reader sees them), trimmed, empty treated as absent.
    func text(_ object: [String: JSONValue], _ key: String, field: String, nameVi: String, limit: Int) throws(IntakeError) -> String? {
        guard let value = try string(object, key, field: field) else { return nil }
        let text = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { return nil }
        if text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" && $0 != "\t" }) {
            throw .invalidMetadata("\"\(field)\" chứa ký tự điều khiển", "\"\(field)\" contains control characters", field: field)
        }
        guard text.count <= limit else { throw .fieldTooLong(field, nameVi: nameVi, limit: limit, actual: text.count) }
        return text
    }
}
