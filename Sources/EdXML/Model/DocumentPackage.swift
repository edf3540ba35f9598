import DocumentModel
import Foundation

// The document package of QCVN 102:2016 as typed values. Text fields keep what the producer
// sent (so a package we could not fully judge still reads, and a reply can quote it); the typed
// accessors (`agencyCode`, `priority` …) say whether it is well formed.

/// `From`, `To`: an agency taking part in the exchange.
package struct Organization: Sendable, Equatable, Codable {
    package var organId: String
    package var organizationInCharge: String?
    package var organName: String?
    package var organAdd: String?
    package var email: String?
    package var telephone: String?
    package var fax: String?
    package var website: String?

    package init(organId: String, organizationInCharge: String? = nil, organName: String? = nil, organAdd: String? = nil,
                email: String? = nil, telephone: String? = nil, fax: String? = nil, website: String? = nil) {
        self.organId = organId
        self.organizationInCharge = organizationInCharge
        self.organName = organName
        self.organAdd = organAdd
        self.email = email
        self.telephone = telephone
        self.fax = fax
        self.website = website
    }

    package var agencyCode: AgencyCode? { AgencyCode(organId) }
}

/// `Code`: số (number) and ký hiệu (notation), written together as `7816/VPCP-TTĐT`.
package struct DocumentCode: Sendable, Equatable, Codable, CustomStringConvertible {
    package var number: String
    package var notation: String

    package init(number: String, notation: String) {
        self.number = number
        self.notation = notation
    }

    package var description: String { "\(number)/\(notation)" }
}

package struct PromulgationInfo: Sendable, Equatable, Codable {
    package var place: String?
    /// `yyyy/MM/dd` as sent.
    package var date: String?

    package init(place: String? = nil, date: String? = nil) {
        self.place = place
        self.date = date
    }
}

package struct DocumentType: Sendable, Equatable, Codable {
    package var type: String?
    package var typeDetail: String?
    package var typeName: String?

    package init(type: String? = nil, typeDetail: String? = nil, typeName: String? = nil) {
        self.type = type
        self.typeDetail = typeDetail
        self.typeName = typeName
    }
}

package struct SignerInfo: Sendable, Equatable, Codable {
    package var competence: String?
    package var position: String?
    package var fullName: String?

    package init(competence: String? = nil, position: String? = nil, fullName: String? = nil) {
        self.competence = competence
        self.position = position
        self.fullName = fullName
    }
}

package struct OtherInfo: Sendable, Equatable, Codable {
    /// 0–4 (`DocumentModel.Priority`); kept as sent so an out-of-range value is reported, not lost.
    package var priority: Int?
    package var sphereOfPromulgation: String?
    package var typerNotation: String?
    package var promulgationAmount: Int?
    package var pageAmount: Int?
    package var direction: String?
    package var appendixes: [String]

    package init(priority: Int? = nil, sphereOfPromulgation: String? = nil, typerNotation: String? = nil, promulgationAmount: Int? = nil,
                pageAmount: Int? = nil, direction: String? = nil, appendixes: [String] = []) {
        self.priority = priority
        self.sphereOfPromulgation = sphereOfPromulgation
        self.typerNotation = typerNotation
        self.promulgationAmount = promulgationAmount
        self.pageAmount = pageAmount
        self.direction = direction
        self.appendixes = appendixes
    }

    package var typedPriority: Priority? { priority.flatMap(Priority.init(rawValue:)) }
}

/// `ResponseFor`: the document a reply (or a status) is about.
package struct ResponseFor: Sendable, Equatable, Codable {
    package var organId: String
    /// `Number/Notation` of the document replied to.
    package var code: String?
    package var promulgationDate: String?
    package var documentId: String?

    package init(organId: String, code: String? = nil, promulgationDate: String? = nil, documentId: String? = nil) {
        self.organId = organId
        self.code = code
        self.promulgationDate = promulgationDate
        self.documentId = documentId
    }
}

package struct MessageHeader: Sendable, Equatable, Codable {
    package var from: Organization
    package var to: [Organization]
    package var code: DocumentCode
    package var promulgationInfo: PromulgationInfo
    package var documentType: DocumentType
    package var subject: String
    package var content: String?
    package var signerInfo: SignerInfo?
    package var dueDate: String?
    package var toPlaces: [String]
    package var otherInfo: OtherInfo
    /// 0 for information, 1 to be processed, 2 to be reported on (the 0/1/2).
    package var steeringType: Int?
    /// `OrganId,yyyy/MM/dd,Number/Notation`, or a UUID from some producers.
    package var documentId: String?
    package var responseFor: [ResponseFor]

    package init(from: Organization, to: [Organization], code: DocumentCode, promulgationInfo: PromulgationInfo = .init(),
                documentType: DocumentType = .init(), subject: String, content: String? = nil, signerInfo: SignerInfo? = nil,
                dueDate: String? = nil, toPlaces: [String] = [], otherInfo: OtherInfo = .init(), steeringType: Int? = nil,
                documentId: String? = nil, responseFor: [ResponseFor] = []) {
        self.from = from
        self.to = to
        self.code = code
        self.promulgationInfo = promulgationInfo
        self.documentType = documentType
        self.subject = subject
        self.content = content
        self.signerInfo = signerInfo
        self.dueDate = dueDate
        self.toPlaces = toPlaces
        self.otherInfo = otherInfo
        self.steeringType = steeringType
        self.documentId = documentId
        self.responseFor = responseFor
    }

    /// The identifier QCVN 102 composes from the sender, the date and the code.
    package static func composedDocumentId(from organId: String, date: String, code: DocumentCode) -> String {
        "\(organId),\(date),\(code)"
    }
}

/// One hop the package went through.
package struct TraceHeader: Sendable, Equatable, Codable {
    package var organId: String
    /// `yyyy/MM/dd HH:mm:ss` as sent.
    package var timestamp: String

    package init(organId: String, timestamp: String) {
        self.organId = organId
        self.timestamp = timestamp
    }
}

package struct StaffInfo: Sendable, Equatable, Codable {
    package var department: String?
    package var staff: String?
    package var mobile: String?
    package var email: String?

    package init(department: String? = nil, staff: String? = nil, mobile: String? = nil, email: String? = nil) {
        self.department = department
        self.staff = staff
        self.mobile = mobile
        self.email = email
    }
}

/// `BussinessDocType`: what the package does to the document. An open set: a number we do not
/// know is kept and shown, not refused.
package struct BusinessDocType: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    package let rawValue: Int
    package init(rawValue: Int) { self.rawValue = rawValue }

    package static let new = Self(rawValue: 0)
    package static let revocation = Self(rawValue: 1)
    package static let update = Self(rawValue: 2)
    package static let replacement = Self(rawValue: 3)

    package var name: String? {
        switch rawValue {
        case 0: "Văn bản mới / new"
        case 1: "Thu hồi / revocation"
        case 2: "Cập nhật / update"
        case 3: "Thay thế / replacement"
        default: nil
        }
    }

    package var description: String { name.map { "\(rawValue) \($0)" } ?? "\(rawValue)" }
}

/// For an update: which receivers the change concerns.
package struct BusinessDocumentInfo: Sendable, Equatable, Codable {
    package struct Receiver: Sendable, Equatable, Codable {
        package var organId: String
        package var receiverType: String?
        package init(organId: String, receiverType: String? = nil) {
            self.organId = organId
            self.receiverType = receiverType
        }
    }

    package var documentInfo: String?
    package var documentReceiver: String?
    package var receivers: [Receiver]

    package init(documentInfo: String? = nil, documentReceiver: String? = nil, receivers: [Receiver] = []) {
        self.documentInfo = documentInfo
        self.documentReceiver = documentReceiver
        self.receivers = receivers
    }
}

/// For a replacement: the document replaced and who had received it.
package struct ReplacementInfo: Sendable, Equatable, Codable {
    package var documentId: String
    package var organIds: [String]

    package init(documentId: String, organIds: [String]) {
        self.documentId = documentId
        self.organIds = organIds
    }
}

/// `Bussiness` (the standard's spelling).
package struct Business: Sendable, Equatable, Codable {
    package var docType: BusinessDocType
    package var reason: String?
    package var documentId: String?
    package var paper: Int?
    package var staffInfo: [StaffInfo]
    package var documentInfo: [BusinessDocumentInfo]
    package var replacements: [ReplacementInfo]

    package init(docType: BusinessDocType = .new, reason: String? = nil, documentId: String? = nil, paper: Int? = nil,
                staffInfo: [StaffInfo] = [], documentInfo: [BusinessDocumentInfo] = [], replacements: [ReplacementInfo] = []) {
        self.docType = docType
        self.reason = reason
        self.documentId = documentId
        self.paper = paper
        self.staffInfo = staffInfo
        self.documentInfo = documentInfo
        self.replacements = replacements
    }
}

/// A manifest entry joined with its encoded attachment: what the file is, not its bytes (those
/// stream between disk and package).
package struct AttachmentInfo: Sendable, Equatable, Codable {
    /// Without the `cid:` the manifest puts in front.
    package var contentId: String
    package var name: String
    package var contentType: String
    package var description: String?

    package init(contentId: String, name: String, contentType: String, description: String? = nil) {
        self.contentId = contentId
        self.name = name
        self.contentType = contentType
        self.description = description
    }
}

extension AttachmentInfo {
    /// The MIME type a package announces for a file, from its extension (the formats communes send).
    package static func contentType(forFileName name: String) -> String {
        let base = name.split(separator: "/").last.map(String.init) ?? name
        let dot = base.lastIndex(of: ".")
        let pathExtension = dot.map { String(base[base.index(after: $0)...]).lowercased() } ?? ""
        return switch pathExtension {
        case "pdf": "application/pdf"
        case "doc": "application/msword"
        case "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        case "xls": "application/vnd.ms-excel"
        case "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        case "zip": "application/zip"
        case "xml": "application/xml"
        case "txt": "text/plain"
        case "jpg", "jpeg": "image/jpeg"
        case "png": "image/png"
        case "tif", "tiff": "image/tiff"
        case "p7s": "application/pkcs7-signature"
        default: "application/octet-stream"
        }
    }
}

package struct DocumentPackage: Sendable, Equatable, Codable {
    package var header: MessageHeader
    package var traces: [TraceHeader]
    package var business: Business?
    package var attachments: [AttachmentInfo]

    package init(header: MessageHeader, traces: [TraceHeader] = [], business: Business? = nil, attachments: [AttachmentInfo] = []) {
        self.header = header
        self.traces = traces
        self.business = business
        self.attachments = attachments
    }
}

extension DocumentPackage {
    /// Every rule a field breaks. Empty means the package may be built.
    package func findings() -> [Finding] {
        var findings: [Finding] = []
        let h = header
        func organization(_ organization: Organization, _ path: String) {
            FieldRules.checkAgencyCode(organization.organId, path: "\(path)/OrganId", into: &findings)
            FieldRules.checkLength(organization.organId, field: "OrganId", path: "\(path)/OrganId", into: &findings)
            FieldRules.checkLength(organization.organName, field: "OrganName", path: "\(path)/OrganName", into: &findings)
            FieldRules.checkLength(organization.organizationInCharge, field: "OrganName", path: "\(path)/OrganizationInCharge", into: &findings)
            for (field, value) in [("OrganAdd", organization.organAdd), ("Email", organization.email), ("Telephone", organization.telephone),
                                   ("Fax", organization.fax), ("Website", organization.website)] {
                FieldRules.checkLength(value, field: field, path: "\(path)/\(field)", into: &findings)
            }
        }
        organization(h.from, "MessageHeader/From")
        if h.to.isEmpty { findings.append(Finding(path: "MessageHeader/To", problem: "cần ít nhất một nơi nhận / at least one recipient is required")) }
        for (index, to) in h.to.enumerated() { organization(to, "MessageHeader/To[\(index + 1)]") }
        if h.code.number.isEmpty { findings.append(Finding(path: "MessageHeader/Code/CodeNumber", problem: "trống / empty")) }
        if h.code.notation.isEmpty { findings.append(Finding(path: "MessageHeader/Code/CodeNotation", problem: "trống / empty")) }
        FieldRules.checkLength(h.code.number, field: "CodeNumber", path: "MessageHeader/Code/CodeNumber", into: &findings)
        FieldRules.checkLength(h.code.notation, field: "CodeNotation", path: "MessageHeader/Code/CodeNotation", into: &findings)
        FieldRules.checkLength(h.promulgationInfo.place, field: "Place", path: "MessageHeader/PromulgationInfo/Place", into: &findings)
        FieldRules.checkDate(h.promulgationInfo.date, path: "MessageHeader/PromulgationInfo/PromulgationDate", into: &findings)
        FieldRules.checkLength(h.documentType.typeName, field: "TypeName", path: "MessageHeader/DocumentType/TypeName", into: &findings)
        FieldRules.checkLength(h.documentType.type, field: "Type", path: "MessageHeader/DocumentType/Type", into: &findings)
        if h.subject.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            findings.append(Finding(path: "MessageHeader/Subject", problem: "trống / empty"))
        }
        FieldRules.checkLength(h.subject, field: "Subject", path: "MessageHeader/Subject", into: &findings)
        FieldRules.checkLength(h.content, field: "Content", path: "MessageHeader/Content", into: &findings)
        if let signer = h.signerInfo {
            FieldRules.checkLength(signer.competence, field: "Competence", path: "MessageHeader/SignerInfo/Competence", into: &findings)
            FieldRules.checkLength(signer.position, field: "Position", path: "MessageHeader/SignerInfo/Position", into: &findings)
            FieldRules.checkLength(signer.fullName, field: "FullName", path: "MessageHeader/SignerInfo/FullName", into: &findings)
        }
        FieldRules.checkDate(h.dueDate, path: "MessageHeader/DueDate", into: &findings)
        for place in h.toPlaces { FieldRules.checkLength(place, field: "Place", path: "MessageHeader/ToPlaces/Place", into: &findings) }
        if let priority = h.otherInfo.priority, Priority(rawValue: priority) == nil {
            findings.append(Finding(path: "MessageHeader/OtherInfo/Priority", problem: "\(priority) không thuộc 0–4 / \(priority) is not 0–4"))
        }
        if let steering = h.steeringType, !(0...2).contains(steering) {
            findings.append(Finding(path: "MessageHeader/SteeringType", problem: "\(steering) không thuộc 0–2 / \(steering) is not 0–2"))
        }
        FieldRules.checkLength(h.documentId, field: "DocumentId", path: "MessageHeader/DocumentId", into: &findings)
        for (index, response) in h.responseFor.enumerated() {
            FieldRules.checkAgencyCode(response.organId, path: "MessageHeader/ResponseFor[\(index + 1)]/OrganId", into: &findings)
            FieldRules.checkDate(response.promulgationDate, path: "MessageHeader/ResponseFor[\(index + 1)]/PromulgationDate", into: &findings)
        }
        for (index, trace) in traces.enumerated() {
            FieldRules.checkAgencyCode(trace.organId, path: "TraceHeaderList/TraceHeader[\(index + 1)]/OrganId", into: &findings)
            FieldRules.checkTimestamp(trace.timestamp, path: "TraceHeaderList/TraceHeader[\(index + 1)]/Timestamp", into: &findings)
        }
        if let business {
            FieldRules.checkLength(business.reason, field: "BussinessDocReason", path: "TraceHeaderList/Bussiness/BussinessDocReason", into: &findings)
            if business.docType != .new, business.documentId == nil {
                findings.append(Finding(path: "TraceHeaderList/Bussiness/DocumentId",
                                        problem: "thu hồi/cập nhật/thay thế cần DocumentId của văn bản gốc / revocation, update and replacement need the original's DocumentId"))
            }
        }
        var seenIds = Set<String>()
        for (index, attachment) in attachments.enumerated() {
            if attachment.contentId.isEmpty || !seenIds.insert(attachment.contentId).inserted {
                findings.append(Finding(path: "AttachmentEncoded/Attachment[\(index + 1)]/ContentId", problem: "trống hoặc trùng / empty or repeated"))
            }
            if attachment.name.isEmpty {
                findings.append(Finding(path: "AttachmentEncoded/Attachment[\(index + 1)]/AttachmentName", problem: "trống / empty"))
            }
            FieldRules.checkLength(attachment.name, field: "AttachmentName", path: "AttachmentEncoded/Attachment[\(index + 1)]/AttachmentName", into: &findings)
            FieldRules.checkLength(attachment.description, field: "Description", path: "AttachmentEncoded/Attachment[\(index + 1)]/Description", into: &findings)
        }
        return findings
    }
}
