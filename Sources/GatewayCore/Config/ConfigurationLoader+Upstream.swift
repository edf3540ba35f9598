// `[upstream]` and `[enrolment]` for the configuration loader: the hub the relay talks to, and
// where the box gets its certificate (docs/configuration.md).
import Foundation
import TOMLKit

extension ConfigurationLoader.Reader {
    mutating func readEnrolment(_ table: TOMLTable, into enrolment: inout GatewayConfiguration.Enrolment) {
        if let url = hubURL(table, "enrolment", hint: "hubd's enrolment listener, e.g. url = \"https://hub.tinh.gov.vn:8444\"") {
            enrolment.url = url
        }
        if let token = string(table, "enrolment", "token") {
            let trimmed = token.trimmingCharacters(in: .whitespaces)
            // Blank: already used (firstboot blanks gateway.toml's once it is carried over).
            if !trimmed.isEmpty { enrolment.token = trimmed }
        }
    }

    mutating func readUpstream(_ table: TOMLTable, into upstream: inout GatewayConfiguration.Upstream, enrolling: Bool = false) {
        if let url = hubURL(table, "upstream", hint: "e.g. url = \"https://hub.tinh.gov.vn:8443\"; the relay speaks only TLS") {
            upstream.url = url
        }
        let paths: [(String, WritableKeyPath<GatewayConfiguration.Upstream, String?>)] = [
            ("ca_file", \.caFile), ("certificate", \.certificateFile), ("key", \.keyFile),
        ]
        for (key, keyPath) in paths {
            if let path = string(table, "upstream", key) {
                if path.hasPrefix("/") { upstream[keyPath: keyPath] = path } else {
                    issue("upstream.\(key)", "must be an absolute path, found \"\(path)\"", hint: nil)
                }
            }
        }
        if upstream.url != nil {
            // Enrolment writes the certificate and key in the data directory (defaults below).
            let identity: [(String, String?)] = enrolling ? [] : [("certificate", upstream.certificateFile), ("key", upstream.keyFile)]
            for (key, value) in [("ca_file", upstream.caFile)] + identity where value == nil {
                issue("upstream.\(key)", "is required when upstream.url is set",
                      hint: key == "ca_file" ? "the relay authenticates both ways (mutual TLS)" : "or configure [enrolment] to get them from the hub")
            }
        }
        // Removed (issue 16): a pin the client cannot enforce is a promise the box would not
        // keep. The CA in ca_file pins the hub: use a CA of the province's own for it.
        if table["hub_key_sha256"] != nil {
            issue("upstream.hub_key_sha256",
                  "is no longer supported: the box cannot enforce a key pin (its HTTP client has no verification hook), so it would only seem to protect",
                  hint: "remove it; upstream.ca_file already pins the hub's CA — give the province's own CA there (not a public one), with the old and new CA in the file while the hub's CA is rotated")
        }
        let durations: [(String, WritableKeyPath<GatewayConfiguration.Upstream, Duration>)] = [
            ("connect_timeout", \.connectTimeout), ("idle_timeout", \.idleTimeout), ("long_poll", \.longPoll),
            ("retry_base", \.retryBase), ("retry_cap", \.retryCap), ("max_queue_age", \.maximumQueueAge),
        ]
        for (key, keyPath) in durations {
            guard let value = duration(table, "upstream", key) else { continue }
            if value > .zero { upstream[keyPath: keyPath] = value } else { issue("upstream.\(key)", "must be more than 0", hint: nil) }
        }
        if let value = table["parallel_uploads"] {
            if let number = value.int, (1...8).contains(number) { upstream.parallelUploads = number } else {
                issue("upstream.parallel_uploads", "must be a whole number from 1 to 8, found \(value.tomlValue.debugDescription)", hint: nil)
            }
        }
        if upstream.longPoll > .seconds(60) { issue("upstream.long_poll", "must be at most 60 s (the hub's limit)", hint: nil) }
        if upstream.retryCap < upstream.retryBase { issue("upstream.retry_cap", "must not be below retry_base", hint: nil) }
    }

    /// `[SECTION] url`: https://HOST[:PORT] and nothing after it, without a trailing slash; a
    /// problem (said in both languages) otherwise.
    private mutating func hubURL(_ table: TOMLTable, _ section: String, hint: String) -> String? {
        guard let url = string(table, section, "url") else { return nil }
        guard let parsed = URL(string: url), parsed.scheme == "https", parsed.host?.isEmpty == false,
              parsed.path.isEmpty || parsed.path == "/", parsed.query == nil else {
            issue("\(section).url", "\"\(url)\" không phải https://MÁY[:CỔNG] / is not https://HOST[:PORT]", hint: hint)
            return nil
        }
        return url.hasSuffix("/") ? String(url.dropLast()) : url
    }
}
