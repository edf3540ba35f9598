import Foundation

/// The four lanes of the outbound queue, most urgent first (Decree 30/2020 độ khẩn; QCVN 102
/// numbers 3 and 4 are both Hỏa tốc).
package enum RelayLane: Int, Sendable, CaseIterable, Comparable, Codable {
    case hoaToc = 3
    case thuongKhan = 2
    case khan = 1
    case thuong = 0

    package init(_ priority: Priority) {
        switch priority {
        case .flash, .flashScheduled: self = .hoaToc
        case .veryUrgent: self = .thuongKhan
        case .urgent: self = .khan
        case .normal: self = .thuong
        }
    }

    package var name: String {
        switch self {
        case .hoaToc: "hoa_toc"
        case .thuongKhan: "thuong_khan"
        case .khan: "khan"
        case .thuong: "thuong"
        }
    }

    package var vietnameseName: String {
        switch self {
        case .hoaToc: "Hỏa tốc"
        case .thuongKhan: "Thượng khẩn"
        case .khan: "Khẩn"
        case .thuong: "Thường"
        }
    }

    package static func < (lhs: RelayLane, rhs: RelayLane) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The upload workers, each with its own connection (see `LaneSchedule`).
package enum UploadWorker: String, Sendable, CaseIterable {
    case express
    case general

    package func accepts(_ lane: RelayLane) -> Bool { lane >= lowestLane }

    /// Every lane from this one up is the worker's.
    package var lowestLane: RelayLane { self == .general ? .thuong : .khan }
}

/// Which queued document each upload worker takes next.
///
/// Workers, each with its own connection: the **express** worker takes only urgent lanes
/// (Khẩn and above), the **general** workers (`upstream.parallel_uploads` of them) take anything,
/// most urgent first. So an urgent
/// document waits at most behind another urgent one, never behind a large Thường upload that
/// the general worker may be in the middle of (the "never waits behind": separate
/// connections rather than preemption, which would throw away a half-sent upload's progress).
///
/// Generic over the document's id so that the rule lives here, apart from the store that mints
/// the ids (GatewayCore names it `LaneScheduler` over `DocumentID`).
package struct LaneSchedule<ID: Hashable & Sendable & CustomStringConvertible>: Sendable {
    package typealias Worker = UploadWorker

    package struct Candidate: Sendable, Equatable {
        package var id: ID
        package var lane: RelayLane
        package var queuedAt: Date
        /// When a failed attempt may be repeated; nil: at once.
        package var notBefore: Date?

        package init(id: ID, lane: RelayLane, queuedAt: Date, notBefore: Date? = nil) {
            self.id = id
            self.lane = lane
            self.queuedAt = queuedAt
            self.notBefore = notBefore
        }
    }

    package enum Choice: Sendable, Equatable {
        case send(ID)
        /// Nothing is due; wake up at this time (nil: nothing to wait for but new documents).
        case wait(until: Date?)
    }

    package init() {}

    /// `busy`: documents another worker is sending right now.
    package func next(for worker: Worker, among candidates: [Candidate], busy: Set<ID>, now: Date) -> Choice {
        var best: Candidate?
        var earliestLater: Date?
        for candidate in candidates where worker.accepts(candidate.lane) && !busy.contains(candidate.id) {
            if let notBefore = candidate.notBefore, notBefore > now {
                earliestLater = min(earliestLater ?? notBefore, notBefore)
                continue
            }
            if let current = best {
                if candidate.lane > current.lane
                    || (candidate.lane == current.lane && (candidate.queuedAt, candidate.id.description) < (current.queuedAt, current.id.description)) {
                    best = candidate
                }
            } else {
                best = candidate
            }
        }
        if let best { return .send(best.id) }
        return .wait(until: earliestLater)
    }
}

/// Decision 28/2018/QĐ-TTg: a document signed today should leave today. The box warns (status,
/// log) when a document has been waiting for the link longer than the configured age.
package struct QueueAgeRule: Sendable, Equatable {
    package var maximumAge: Duration

    package init(maximumAge: Duration) { self.maximumAge = maximumAge }

    package struct Warning: Sendable, Equatable {
        package var count: Int
        package var oldestQueuedAt: Date
        package var oldestAge: Duration

        package var message: String {
            let seconds = oldestAge.components.seconds
            // Minutes below an hour: "0.0 h" would read as no wait at all.
            let (vi, en) = seconds < 3600
                ? ("\(seconds / 60) phút", "\(seconds / 60) min")
                : (String(format: "%.1f giờ", Double(seconds) / 3600), String(format: "%.1f h", Double(seconds) / 3600))
            return "\(count) văn bản chờ gửi lâu hơn giới hạn, lâu nhất \(vi): kiểm tra kết nối lên cấp trên"
                + " / \(count) document(s) waiting longer than the limit, the oldest for \(en): check the upstream link"
        }
    }

    /// `queuedSince`: when each waiting document became ready to leave (entered `queued`).
    package func warning(queuedSince: [Date], now: Date) -> Warning? {
        let limit = now.addingTimeInterval(-Self.seconds(maximumAge))
        let late = queuedSince.filter { $0 < limit }
        guard let oldest = late.min() else { return nil }
        return Warning(count: late.count, oldestQueuedAt: oldest,
                       oldestAge: .milliseconds(Int64((now.timeIntervalSince(oldest) * 1000).rounded())))
    }

    package static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
