// `gatewayd doctor`'s checklist as values: each line ok / warning / fail, in Vietnamese and
// English, with what to do. The checks themselves are the other files of this folder, one per
// family, each a pure `judge` over facts that a thin gatherer (or a test) hands it.
import DocumentModel
import Foundation

package enum DoctorStatus: String, Sendable, Codable, Comparable, CaseIterable {
    case ok, warning, fail

    private var rank: Int { self == .ok ? 0 : self == .warning ? 1 : 2 }
    package static func < (lhs: DoctorStatus, rhs: DoctorStatus) -> Bool { lhs.rank < rhs.rank }
}

/// One line of the checklist. The JSON keys are stable (scripts read them): `id`, `status`,
/// `message_vi`, `message_en`, `action_vi`, `action_en` (the actions null on an ok line).
package struct DoctorCheck: Sendable, Codable, Equatable {
    package var id: String
    package var status: DoctorStatus
    package var messageVI: String
    package var messageEN: String
    package var actionVI: String?
    package var actionEN: String?

    package init(_ id: String, _ status: DoctorStatus, _ vi: String, _ en: String, action vi2: String? = nil, _ en2: String? = nil) {
        (self.id, self.status, messageVI, messageEN, actionVI, actionEN) = (id, status, vi, en, vi2, en2)
    }

    enum CodingKeys: String, CodingKey {
        case id, status, messageVI = "message_vi", messageEN = "message_en", actionVI = "action_vi", actionEN = "action_en"
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(status, forKey: .status)
        try container.encode(messageVI, forKey: .messageVI)
        try container.encode(messageEN, forKey: .messageEN)
        // Written as null rather than left out: a script reads the same keys on every line.
        try container.encode(actionVI, forKey: .actionVI)
        try container.encode(actionEN, forKey: .actionEN)
    }
}

package struct DoctorReport: Sendable, Codable, Equatable {
    package var checkedAt: Date
    package var checks: [DoctorCheck]

    package init(checkedAt: Date, checks: [DoctorCheck]) { (self.checkedAt, self.checks) = (checkedAt, checks) }

    /// The worst line's status.
    package var status: DoctorStatus { checks.map(\.status).max() ?? .ok }

    /// 0 all ok, 1 warnings, 2 failures.
    package var exitCode: Int32 { status == .ok ? 0 : status == .warning ? 1 : 2 }

    package func check(_ id: String) -> DoctorCheck? { checks.first { $0.id == id } }

    enum CodingKeys: String, CodingKey { case checkedAt = "checked_at", status, checks }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        checkedAt = try container.decode(Date.self, forKey: .checkedAt)
        checks = try container.decode([DoctorCheck].self, forKey: .checks)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(checkedAt, forKey: .checkedAt)
        try container.encode(status, forKey: .status)
        try container.encode(checks, forKey: .checks)
    }

    /// The checklist as a technician reads it on a terminal: one line per check, its action
    /// below it when there is one.
    package var text: String {
        var lines: [String] = []
        for check in checks {
            let mark = switch check.status { case .ok: "[ OK ]"; case .warning: "[CẢNH BÁO/WARN]"; case .fail: "[LỖI/FAIL]" }
            lines.append("\(mark) \(check.id): \(check.messageVI) / \(check.messageEN)")
            if let vi = check.actionVI, let en = check.actionEN { lines.append("        → \(vi) / \(en)") }
        }
        let summary = switch status {
        case .ok: "Mọi mục đều tốt / all checks ok"
        case .warning: "Có cảnh báo (xem trên) / warnings (see above)"
        case .fail: "Có lỗi cần xử lý (xem trên) / failures to fix (see above)"
        }
        lines.append(summary)
        return lines.joined(separator: "\n")
    }
}
