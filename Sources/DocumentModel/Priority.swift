/// Độ khẩn (urgency) as QCVN 102:2016 `OtherInfo/Priority` numbers it.
package enum Priority: Int, Sendable, Codable, CaseIterable, Comparable {
    case normal = 0          // Thường
    case urgent = 1          // Khẩn
    case veryUrgent = 2      // Thượng khẩn
    case flash = 3           // Hỏa tốc
    case flashScheduled = 4  // Hỏa tốc hẹn giờ

    package var vietnameseName: String {
        switch self {
        case .normal: "Thường"
        case .urgent: "Khẩn"
        case .veryUrgent: "Thượng khẩn"
        case .flash: "Hỏa tốc"
        case .flashScheduled: "Hỏa tốc hẹn giờ"
        }
    }

    package static func < (lhs: Priority, rhs: Priority) -> Bool { lhs.rawValue < rhs.rawValue }
}
