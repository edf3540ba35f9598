import Foundation
/// `StatusCode`: what happened to a document at its recipient. An open set: the codes QCVN 102
/// names have names here; any other two-digit code travels and is shown as is.
package struct StatusCode: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    package let rawValue: String

    /// Two ASCII digits, as the standard writes them (`01`, not `1`).
    package init?(rawValue: String) {
        guard rawValue.utf8.count == 2, rawValue.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        self.rawValue = rawValue
    }

    private init(known: String) { rawValue = known }

    /// Sent automatically by the receiving software when the package arrives.
    package static let arrived = Self(known: "01")
    /// Refused, with the reason in `Description`.
    package static let refused = Self(known: "02")
    package static let accepted = Self(known: "03")
    package static let assigned = Self(known: "04")
    package static let inProgress = Self(known: "05")
    package static let finished = Self(known: "06")
    /// The sender asks to take the document back (revocation or update).
    package static let takeBackRequested = Self(known: "13")
    package static let takeBackAgreed = Self(known: "15")
    package static let takeBackRefused = Self(known: "16")

    package static let known: [StatusCode] = [.arrived, .refused, .accepted, .assigned, .inProgress, .finished,
                                             .takeBackRequested, .takeBackAgreed, .takeBackRefused]

    package var name: String? {
        switch rawValue {
        case "01": "Đã đến / arrived"
        case "02": "Từ chối tiếp nhận / refused"
        case "03": "Đã tiếp nhận (vào sổ) / accepted and registered"
        case "04": "Đã phân công / assigned"
        case "05": "Đang xử lý / in progress"
        case "06": "Đã xử lý xong / finished"
        case "13": "Bên gửi đề nghị thu hồi / sender asks to take back"
        case "15": "Đồng ý thu hồi/cập nhật / take-back or update agreed"
        case "16": "Từ chối thu hồi/cập nhật / take-back or update refused"
        default: nil
        }
    }

    package var description: String { name.map { "\(rawValue) \($0)" } ?? rawValue }

    package init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let code = StatusCode(rawValue: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a two-digit status code: \(text)"))
        }
        self = code
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// The status package: a recipient telling the sender what became of a document.
package struct StatusPackage: Sendable, Equatable, Codable {
    package var from: Organization
    package var responseFor: ResponseFor
    package var staffInfo: StaffInfo?
    package var statusCode: StatusCode
    package var description: String?
    /// `yyyy/MM/dd HH:mm:ss` as sent.
    package var timestamp: String

    package init(from: Organization, responseFor: ResponseFor, staffInfo: StaffInfo? = nil, statusCode: StatusCode,
                description: String? = nil, timestamp: String) {
        self.from = from
        self.responseFor = responseFor
        self.staffInfo = staffInfo
        self.statusCode = statusCode
        self.description = description
        self.timestamp = timestamp
    }

    package func findings() -> [Finding] {
        var findings: [Finding] = []
        FieldRules.checkAgencyCode(from.organId, path: "MessageHeader/From/OrganId", into: &findings)
        FieldRules.checkLength(from.organName, field: "OrganName", path: "MessageHeader/From/OrganName", into: &findings)
        FieldRules.checkAgencyCode(responseFor.organId, path: "MessageHeader/ResponseFor/OrganId", into: &findings)
        FieldRules.checkDate(responseFor.promulgationDate, path: "MessageHeader/ResponseFor/PromulgationDate", into: &findings)
        if responseFor.documentId == nil && responseFor.code == nil {
            findings.append(Finding(path: "MessageHeader/ResponseFor", problem: "cần DocumentId hoặc Code / DocumentId or Code is required"))
        }
        FieldRules.checkLength(description, field: "Description", path: "MessageHeader/Description", into: &findings)
        FieldRules.checkTimestamp(timestamp, path: "MessageHeader/Timestamp", into: &findings)
        if statusCode == .refused, (description ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            findings.append(Finding(path: "MessageHeader/Description", problem: "từ chối (02) cần nêu lý do / a refusal (02) needs its reason"))
        }
        return findings
    }
}

/// What a package file holds: a document or a status.
package enum Package: Sendable, Equatable {
    case document(DocumentPackage)
    case status(StatusPackage)
}
