/// Why a package could not be read, built or checked: one case per cause a technician can act
/// on, each with a stable code and a Vietnamese / English message.
package enum EdXMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `<!DOCTYPE …>`: a package has no business declaring a DTD, and a DTD is how entity bombs
    /// and external entities get in.
    case doctypeRefused
    case entityRefused(String)
    case tooDeep(limit: Int)
    case tooLarge(what: String, limit: Int)
    case notWellFormed(line: Int, reason: String)
    case notEdXML(String)
    case missingField(String)
    case invalidFields([Finding])
    case attachment(name: String, reason: String)
    case io(path: String, reason: String)
    case signature(String)

    package var code: String {
        switch self {
        case .doctypeRefused: "doctype_refused"
        case .entityRefused: "entity_refused"
        case .tooDeep: "too_deep"
        case .tooLarge: "too_large"
        case .notWellFormed: "not_well_formed"
        case .notEdXML: "not_edxml"
        case .missingField: "missing_field"
        case .invalidFields: "invalid_fields"
        case .attachment: "attachment"
        case .io: "io"
        case .signature: "signature"
        }
    }

    package var description: String {
        switch self {
        case .doctypeRefused:
            "Gói tin có khai báo DOCTYPE: bị từ chối (không xử lý DTD) / the package declares a DOCTYPE: refused (DTDs are never processed)"
        case .entityRefused(let name):
            "Gói tin khai báo hoặc dùng thực thể \"\(name)\": bị từ chối / the package declares or uses the entity \"\(name)\": refused"
        case .tooDeep(let limit):
            "Gói tin lồng quá \(limit) cấp phần tử / elements nested deeper than \(limit) levels"
        case .tooLarge(let what, let limit):
            "Gói tin vượt giới hạn \(what) (\(limit)) / the package exceeds the limit on \(what) (\(limit))"
        case .notWellFormed(let line, let reason):
            "XML không hợp lệ ở dòng \(line) / malformed XML at line \(line): \(reason)"
        case .notEdXML(let reason):
            "Không phải gói tin edXML (QCVN 102:2016) / not an edXML package: \(reason)"
        case .missingField(let path):
            "Thiếu trường bắt buộc \(path) / required field missing: \(path)"
        case .invalidFields(let findings):
            "Dữ liệu không hợp lệ / invalid fields:\n" + findings.map { "  - \($0)" }.joined(separator: "\n")
        case .attachment(let name, let reason):
            "Tệp đính kèm \"\(name)\" lỗi / attachment \"\(name)\": \(reason)"
        case .io(let path, let reason):
            "Lỗi đọc/ghi tệp \(path) / cannot read or write \(path): \(reason)"
        case .signature(let reason):
            "Chữ ký số / XML signature: \(reason)"
        }
    }
}

/// A problem with one field: refused when we build, reported (the package still reads) when we
/// receive, because a field one character too long must not make a document disappear.
package struct Finding: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Where, as element names from the package root's point of view: `MessageHeader/Subject`.
    package let path: String
    package let problem: String

    package init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    package var description: String { "\(path): \(problem)" }
}
