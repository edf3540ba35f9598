// Tổng quan's warnings (docs/console.md, "Overview warnings"): documents waiting too long,
// certificates near their end, the disk near its reserve. Each is one sentence in Vietnamese with
// English beside, saying what to do. Decided here from facts and a time passed in (tests move
// it); `OverviewWatch` gathers the facts from the store, the tokens and the box's certificate.
import DocumentModel
import Foundation
import GatewayCore
import Logging
import TimeJSON

/// One warning as the overview shows it.
struct OverviewWarning: Sendable, Equatable {
    enum Kind: String, Sendable { case awaitingLeader, awaitingSeal, undelivered, certificateExpiring, certificateExpired, renewalFailing, diskLow, diskFull }
    var kind: Kind
    /// "… / …": Vietnamese, then English, then what to do.
    var text: String
}

/// The limits, from `[console]` (defaults there, with their reason).
struct WarningLimits: Sendable, Equatable {
    var signatureDays = 2
    var sealDays = 1
    var undeliveredHours = 4
    /// Certificates are warned about this many days before they end (issue 15: 30 days, the time a
    /// commune needs to have a CA renew a token's certificate).
    var certificateDays = 30

    init() {}

    init(_ console: GatewayConfiguration.Console) {
        (signatureDays, sealDays, undeliveredHours) = (console.warnSignatureDays, console.warnSealDays, console.warnUndeliveredHours)
    }
}

/// What the warnings are decided from, as the overview found it.
struct OverviewFacts: Sendable {
    var awaitingLeader: (count: Int, oldest: Date?) = (0, nil)
    var awaitingSeal: (count: Int, oldest: Date?) = (0, nil)
    var undelivered: (count: Int, oldest: Date?) = (0, nil)
    /// Whose certificate (the box's, a token holder's) and when it ends.
    var certificates: [(holder: String, notAfter: Date)] = []
    var freeBytes: Int64?
    var diskReserve: Int64 = 0
    /// The box certificate's renewal warning ("… / …", `RenewalState.warning`): nil while all is
    /// well or when the box does not renew by itself.
    var renewal: String?
}

/// Monday to Friday in Vietnam's time. Public holidays are not known to the box and count as
/// working days: a warning may then come a day early, never late.
enum WorkingDays {
    static var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = GatewayJSON.vietnamTime
        return calendar
    }

    static func isWorking(_ day: Date, _ calendar: Calendar) -> Bool {
        let weekday = calendar.component(.weekday, from: day)  // 1 Sunday … 7 Saturday
        return weekday != 1 && weekday != 7
    }

    /// The start of the day after the `days`-th working day after `day`'s: by then a change made
    /// on `day` is more than `days` working days old ("at the latest the next working day").
    static func deadline(after day: Date, days: Int, _ calendar: Calendar) -> Date {
        var current = calendar.startOfDay(for: day)
        var counted = 0
        while counted < days {
            current = calendar.date(byAdding: .day, value: 1, to: current) ?? current
            if isWorking(current, calendar) { counted += 1 }
        }
        return calendar.date(byAdding: .day, value: 1, to: current) ?? current
    }

    /// The moment before which a change is more than `days` working days old at `now`: the start
    /// of the day after the latest day whose deadline has passed.
    static func cutoff(days: Int, now: Date) -> Date {
        let calendar = calendar
        let today = calendar.startOfDay(for: now)
        // A deadline is at least days + 1 calendar days on; weekends push it at most two days
        // further per week, so a few weeks back always finds one.
        var day = calendar.date(byAdding: .day, value: -(days + 1), to: today) ?? today
        for _ in 0..<(3 * days + 14) {
            if deadline(after: day, days: days, calendar) <= now { return calendar.date(byAdding: .day, value: 1, to: day) ?? day }
            day = calendar.date(byAdding: .day, value: -1, to: day) ?? day
        }
        return day
    }
}

extension WarningLimits {
    /// The moments before which a document in each watched state waits too long at `now`.
    func cutoffs(now: Date) -> (leader: Date, seal: Date, undelivered: Date) {
        (WorkingDays.cutoff(days: signatureDays, now: now), WorkingDays.cutoff(days: sealDays, now: now),
         now.addingTimeInterval(-Double(undeliveredHours) * 3600))
    }

    func warnings(_ facts: OverviewFacts, now: Date) -> [OverviewWarning] {
        var found: [OverviewWarning] = []
        let since = { (date: Date?) in date.map { " (lâu nhất từ / the oldest since \(ConsoleServer.time($0)))" } ?? "" }
        // DocumentStore.unmoved stops counting past its cap.
        let cap = DocumentStore.unmovedCountCap
        let vi = { (count: Int) in count > cap ? "Hơn \(cap)" : "\(count)" }
        let en = { (count: Int) in count > cap ? "More than \(cap)" : "\(count)" }
        if facts.awaitingLeader.count > 0 {
            found.append(.init(kind: .awaitingLeader, text: """
                \(vi(facts.awaitingLeader.count)) văn bản chờ lãnh đạo ký quá \(signatureDays) ngày làm việc\(since(facts.awaitingLeader.oldest)) — \
                nhắc lãnh đạo ký hoặc trả lại văn thư. / \(en(facts.awaitingLeader.count)) document(s) have awaited the leader's signature \
                more than \(signatureDays) working day(s): remind the leader to sign them or return them to the clerk.
                """))
        }
        if facts.awaitingSeal.count > 0 {
            found.append(.init(kind: .awaitingSeal, text: """
                \(vi(facts.awaitingSeal.count)) văn bản đã ký chờ đóng dấu quá \(sealDays) ngày làm việc\(since(facts.awaitingSeal.oldest)) — \
                Quyết định 28/2018/QĐ-TTg yêu cầu gửi chậm nhất trong ngày làm việc tiếp theo: văn thư đóng dấu và phát hành ngay. / \
                \(en(facts.awaitingSeal.count)) signed document(s) have awaited the seal more than \(sealDays) working day(s); Decision 28/2018 \
                wants them sent by the next working day: the clerk should seal and issue them now.
                """))
        }
        if facts.undelivered.count > 0 {
            found.append(.init(kind: .undelivered, text: """
                \(vi(facts.undelivered.count)) văn bản đã ký chưa gửi tới trục quá \(undeliveredHours) giờ\(since(facts.undelivered.oldest)) — \
                xem mục "Trục liên thông" ở trên; nếu mất kết nối, báo kỹ thuật viên. / \(en(facts.undelivered.count)) signed document(s) \
                not delivered to the hub for more than \(undeliveredHours) hour(s): see the hub link above; if it is down, call the technician.
                """))
        }
        for certificate in facts.certificates {
            let days = Int((certificate.notAfter.timeIntervalSince(now) / 86400).rounded(.down))
            let end = ConsoleServer.day(certificate.notAfter)
            if certificate.notAfter <= now {
                found.append(.init(kind: .certificateExpired, text: """
                    Chứng thư số của \(certificate.holder) đã hết hạn ngày \(end): không ký hay kết nối được bằng chứng thư này — \
                    liên hệ nhà cung cấp chứng thư số để cấp lại ngay. / The certificate of \(certificate.holder) expired on \(end) \
                    and can no longer sign or connect: have the certificate provider renew it now.
                    """))
            } else if days < certificateDays {
                found.append(.init(kind: .certificateExpiring, text: """
                    Chứng thư số của \(certificate.holder) hết hạn ngày \(end) (còn \(days) ngày) — liên hệ nhà cung cấp chứng thư số \
                    để gia hạn trước ngày đó. / The certificate of \(certificate.holder) expires on \(end) (\(days) day(s) left): \
                    have the certificate provider renew it before then.
                    """))
            }
        }
        if let renewal = facts.renewal {
            found.append(.init(kind: .renewalFailing, text: renewal + " — báo kỹ thuật viên (gatewayd doctor) / call the technician (gatewayd doctor)"))
        }
        if let free = facts.freeBytes, facts.diskReserve > 0, free < 2 * facts.diskReserve {
            let (freeText, reserveText) = (ByteCountText.format(free), ByteCountText.format(facts.diskReserve))
            found.append(free < facts.diskReserve
                ? .init(kind: .diskFull, text: """
                    Ổ đĩa chỉ còn trống \(freeText), dưới mức dự trữ \(reserveText): hộp đang từ chối nhận văn bản mới — báo kỹ thuật viên \
                    giải phóng dung lượng ngay. / Only \(freeText) of disk space is free, below the reserve of \(reserveText): the box is \
                    refusing new documents; have the technician free space now.
                    """)
                : .init(kind: .diskLow, text: """
                    Ổ đĩa còn trống \(freeText), gần mức dự trữ \(reserveText); dưới mức đó hộp sẽ từ chối nhận văn bản mới — báo kỹ thuật \
                    viên giải phóng dung lượng hoặc thay ổ lớn hơn. / Free disk space is \(freeText), near the reserve of \(reserveText) \
                    below which the box refuses new documents: have the technician free space or fit a larger disk.
                    """))
        }
        return found
    }
}

/// Where the overview finds its facts: the store (documents, the disk), the box's own certificate
/// (`[upstream] certificate`, its link to the hub); the tokens come from the token watcher.
package struct OverviewWatch: Sendable {
    let store: DocumentStore
    let limits: WarningLimits
    /// PEM of the box's certificate (CN = the agency code); nil when none is configured.
    let boxCertificate: String?
    /// `gatewayd doctor`'s checklist, for the Chẩn đoán page (DoctorPage.swift), given the
    /// watcher's tokens; nil: no such page.
    let doctor: (@Sendable (TokenServiceStatus?) async -> DoctorReport)?

    package init(store: DocumentStore, configuration: GatewayConfiguration, logger: Logger) {
        let ca = BoxCA(layout: configuration.layout)
        let console = Doctor.ConsoleFiles(caCertificate: ca.caCertificatePath, serverCertificate: ca.serverCertificatePath)
        self.init(store: store, limits: WarningLimits(configuration.console), boxCertificate: configuration.resolvedUpstream.certificateFile) { tokens in
            Doctor.report(await Doctor.gather(configurationPath: "", configuration: configuration, tokens: tokens, console: console, logger: logger))
        }
    }

    init(store: DocumentStore, limits: WarningLimits, boxCertificate: String?,
         doctor: (@Sendable (TokenServiceStatus?) async -> DoctorReport)? = nil) {
        (self.store, self.limits, self.boxCertificate, self.doctor) = (store, limits, boxCertificate, doctor)
    }

    /// The facts at `now`; the tokens' certificates are the watcher's (`tokens`).
    func facts(now: Date, tokens: TokenServiceStatus?) throws -> OverviewFacts {
        let cutoffs = limits.cutoffs(now: now)
        var facts = OverviewFacts()
        facts.awaitingLeader = try store.unmoved(in: [.awaitingLeader], before: cutoffs.leader)
        facts.awaitingSeal = try store.unmoved(in: [.awaitingSeal], before: cutoffs.seal)
        facts.undelivered = try store.unmoved(in: [.signed, .queued, .sending], before: cutoffs.undelivered)
        if let boxCertificate, let certificate = try? CertificateFile.first(inPEMFile: boxCertificate) {
            facts.certificates.append(("hộp (kết nối trục) / the box (hub link)", certificate.notValidAfter))
        }
        for token in tokens?.tokens ?? [] {
            for certificate in token.certificates {
                facts.certificates.append(("\(ConsoleServer.commonName(certificate.subject)) (token \(token.model ?? token.reader))", certificate.notAfter))
            }
        }
        facts.freeBytes = store.freeBytes()
        facts.diskReserve = store.limits.diskReserve
        facts.renewal = BoxCertificateStatus.read(dataDirectory: store.layout.dataDirectory, now: now)?.warning
        return facts
    }
}
