import Foundation
import XCTest
@testable import GatewayCore

/// The status as Prometheus gauges: what a province's monitoring scrapes from every box.
final class UnitGatewayMetricsTests: XCTestCase {
    func testTheStatusBecomesGauges() {
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        let relay = RelayStatus(
            link: .down, hub: "https://hub.tinh.gov.vn", linkSince: now.addingTimeInterval(-7200), lastSuccessAt: now.addingTimeInterval(-7200),
            lastError: "connection refused", lastErrorAt: now,
            lanes: [.init(lane: "hoa_toc", name: "Hỏa tốc", queued: 1, sending: 0), .init(lane: "thuong", name: "Thường", queued: 3, sending: 1)],
            warning: "1 văn bản chờ gửi lâu hơn giới hạn", maximumQueueAgeSeconds: 14_400, inboxReceived: 2,
            oldestQueuedAt: now.addingTimeInterval(-18_000))
        let status = DaemonStatus(version: "test", pid: 1, dataDirectory: "/var/lib/gatewayd", startedAt: now.addingTimeInterval(-60),
                                  uptimeSeconds: 60, documentsByState: ["queued": 4, "delivered": 10], freeBytes: 5_000_000_000,
                                  diskReserve: 200_000_000, intake: "ok", hotFolder: nil, tokens: nil, relay: relay)
        let text = String(decoding: GatewayMetrics.render(status, now: now), as: UTF8.self)
        for line in [
            #"gatewayd_documents{state="delivered"} 10.0"#, #"gatewayd_documents{state="queued"} 4.0"#,
            "gatewayd_relay_link_up 0.0", #"gatewayd_relay_queue{lane="thuong",state="queued"} 3.0"#,
            #"gatewayd_relay_queue{lane="thuong",state="sending"} 1.0"#, #"gatewayd_relay_queue{lane="hoa_toc",state="queued"} 1.0"#,
            "gatewayd_relay_oldest_queued_seconds 18000.0", "gatewayd_relay_queue_age_warning 1.0",
            "gatewayd_relay_queue_age_limit_seconds 14400.0", "gatewayd_relay_last_success_timestamp_seconds 1794992800.0",
            "gatewayd_intake_paused 0.0", "# TYPE gatewayd_relay_link_up gauge",
        ] {
            XCTAssertTrue(text.contains(line + "\n"), "missing \(line) in:\n\(text)")
        }
        var quiet = status
        quiet.relay = nil
        XCTAssertFalse(String(decoding: GatewayMetrics.render(quiet, now: now), as: UTF8.self).contains("gatewayd_relay"), "no [upstream]: no relay gauges")
    }
}
