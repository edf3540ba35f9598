import Foundation
import Prometheus

/// The daemon's status as Prometheus gauges (`GET /metrics`), so a province's monitoring sees
/// every commune's box: the link, the queue per lane, how long the oldest document has waited
/// and whether that breaks the Decision 28/2018 limit, the store and the intake.
///
/// A fresh registry per scrape: the values are read from the status, never kept, so nothing
/// goes stale between scrapes and a scrape costs one status read.
enum GatewayMetrics {
    static func render(_ status: DaemonStatus, now: Date) -> [UInt8] {
        let registry = PrometheusCollectorRegistry()
        func gauge(_ name: String, _ help: String, _ labels: [(String, String)] = [], _ value: Double) {
            registry.makeGauge(name: name, labels: labels, help: help).set(value)
        }
        gauge("gatewayd_up_seconds", "Seconds since the daemon started.", [], Double(status.uptimeSeconds))
        // Every state, 0 included: an alert on `awaiting_leader > 0 for 1d` needs the series to exist.
        for state in DocumentState.allCases {
            gauge("gatewayd_documents", "Documents in the store, by state.", [("state", state.rawValue)],
                  Double(status.documentsByState[state.rawValue] ?? 0))
        }
        gauge("gatewayd_free_bytes", "Free space on the data directory's file system.", [], Double(status.freeBytes))
        gauge("gatewayd_intake_paused", "1 while intake is paused because the disk is full.", [], status.intake == "ok" ? 0 : 1)
        if let relay = status.relay {
            gauge("gatewayd_relay_link_up", "1 while the last exchange with the hub succeeded.", [], relay.link == .up ? 1 : 0)
            for lane in relay.lanes {
                gauge("gatewayd_relay_queue", "Documents waiting for the hub, by lane and state.", [("lane", lane.lane), ("state", "queued")], Double(lane.queued))
                gauge("gatewayd_relay_queue", "Documents waiting for the hub, by lane and state.", [("lane", lane.lane), ("state", "sending")], Double(lane.sending))
            }
            gauge("gatewayd_relay_oldest_queued_seconds", "How long the longest-waiting document has waited for the hub (0: none).", [],
                  relay.oldestQueuedAt.map { max(0, now.timeIntervalSince($0)) } ?? 0)
            gauge("gatewayd_relay_queue_age_limit_seconds", "upstream.max_queue_age (Decision 28/2018: signed today, sent today).", [],
                  Double(relay.maximumQueueAgeSeconds))
            gauge("gatewayd_relay_queue_age_warning", "1 while a document has waited longer than upstream.max_queue_age.", [],
                  relay.warning == nil ? 0 : 1)
            gauge("gatewayd_relay_last_success_timestamp_seconds", "Unix time of the last successful exchange with the hub (0: none yet).", [],
                  relay.lastSuccessAt?.timeIntervalSince1970 ?? 0)
            gauge("gatewayd_relay_inbox_received", "Items (documents and statuses) received from the hub.", [], Double(relay.inboxReceived))
            gauge("gatewayd_relay_inbox_set_aside", "Incoming items and 01 statuses set aside, each retried on its own backoff.", [],
                  Double(relay.inboxSetAside?.count ?? 0))
        }
        if let certificate = status.certificate {
            gauge("gatewayd_box_certificate_expiry_timestamp_seconds", "Unix time the box's certificate (its TLS identity at the hub) expires.", [],
                  certificate.expiresAt.timeIntervalSince1970)
            gauge("gatewayd_box_certificate_renewal_failures", "Renewals of the box's certificate failed in a row (0 after a success).", [],
                  Double(certificate.failures))
            gauge("gatewayd_box_certificate_warning", "1 while the box's certificate is expired, late for renewal, or its last renewal failed.", [],
                  certificate.warning == nil ? 0 : 1)
        }
        return registry.emitToBuffer()
    }
}
