import DocumentModel
import Foundation
import SigningPolicy
import TOMLKit

/// One problem found in a configuration file, located for the technician who must fix it.
package struct ConfigurationIssue: Error, Sendable, Equatable, CustomStringConvertible {
    package var key: String?
    package var line: Int?
    package var message: String
    package var hint: String?

    package var description: String {
        var text = ""
        if let line { text += "line \(line): " }
        if let key { text += "\(key): " }
        text += message
        if let hint { text += " (hint: \(hint))" }
        return text
    }
}

/// All the problems of one file, reported together so a technician fixes them in one visit.
package struct ConfigurationErrors: Error, Sendable, CustomStringConvertible {
    package var path: String
    package var issues: [ConfigurationIssue]

    package var description: String {
        issues.map { issue in
            "\(path):\(issue.line.map(String.init) ?? "-"): \(issue.key.map { "\($0): " } ?? "")\(issue.message)\(issue.hint.map { "\n    gợi ý / hint: \($0)" } ?? "")"
        }.joined(separator: "\n")
    }
}

/// Reads the TOML configuration (docs/configuration.md) into `GatewayConfiguration`, strictly:
/// an unknown key is an error (a misspelt key silently ignored is a box misconfigured for months).
package enum ConfigurationLoader {
    package static func load(path: String) throws -> GatewayConfiguration {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ConfigurationErrors(path: path, issues: [ConfigurationIssue(
                message: "cannot read the file: \(error.localizedDescription)",
                hint: "check the path and that the daemon's user may read it")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationErrors(path: path, issues: [ConfigurationIssue(message: "the file is not UTF-8 text", hint: "save it as UTF-8")])
        }
        return try parse(text, path: path)
    }

    package static func parse(_ text: String, path: String = "<config>") throws -> GatewayConfiguration {
        let table = try self.table(text, path: path)
        var reader = Reader(table: table, locator: KeyLocator(text: text))
        let configuration = reader.read()
        if !reader.issues.isEmpty { throw ConfigurationErrors(path: path, issues: reader.issues) }
        return configuration
    }

    /// The TOML itself, or the line where it stops being TOML.
    static func table(_ text: String, path: String) throws(ConfigurationErrors) -> TOMLTable {
        do {
            return try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationErrors(path: path, issues: [ConfigurationIssue(
                line: error.source.begin.line, message: "not valid TOML: \(error.description)",
                hint: "strings need double quotes, e.g. name = \"UBND xã Hòa Tiến\"")])
        } catch {
            throw ConfigurationErrors(path: path, issues: [ConfigurationIssue(message: "not valid TOML: \(error)", hint: nil)])
        }
    }

    /// Walks the table, collecting every issue rather than stopping at the first.
    struct Reader {
        let table: TOMLTable
        let locator: KeyLocator
        /// Keys a file of another kind adds to `sections` (gateway.toml's `[network]`, …).
        var extraKeys: [String: Set<String>] = [:]
        var issues: [ConfigurationIssue] = []

        static let sections: [String: Set<String>] = [
            "": ["data_dir", "agency", "intake", "api", "console", "upstream", "enrolment", "inbox", "share", "signing", "trust", "tokens", "log", "backup"],
            "agency": ["code", "name", "tax_code", "budget_code"],
            "intake": ["hot_folder", "hot_folder_enabled", "max_document_size", "disk_reserve", "default_recipients", "settle_delay", "disk_retry_interval"],
            "api": ["socket", "socket_group", "tcp", "metrics_listen", "max_connections", "idle_timeout"],
            "console": ["enabled", "listen", "warn_signature_days", "warn_seal_days", "warn_undelivered_hours"],
            "log": ["level"],
            "backup": ["every", "keep", "usb_label", "usb_mount"],
            "trust": ["anchors", "check_revocation", "recheck_interval"],
            "inbox": ["folder"],
            "enrolment": ["url", "token"],
            "share": ["group"],
            "upstream": ["url", "ca_file", "certificate", "key", "hub_key_sha256", "connect_timeout", "idle_timeout",
                         "long_poll", "parallel_uploads", "retry_base", "retry_cap", "max_queue_age"],
            "signing": ["signatures", "numbering", "clock", "require_revocation", "session_timeout", "seal_image", "seal_width_mm",
                        "font", "tsa_url", "default_notation", "place", "leaders"],
            // `[[signing.leaders]]`: one table per leader.
            "signing.leaders": ["name", "title", "identity", "signature_image"],
            "tokens": ["modules", "opensc_module", "module_for", "module_dir"],
            // `[[tokens.module_for]]`: one table per token model served by a named module.
            "tokens.module_for": ["atr", "usb", "name", "module"],
        ]

        mutating func read() -> GatewayConfiguration {
            var configuration = GatewayConfiguration()
            checkKeys(table, section: "")
            if let value = string(table, "", "data_dir") {
                if value.hasPrefix("/") { configuration.dataDirectory = value } else {
                    issue("data_dir", "must be an absolute path, found \"\(value)\"", hint: "e.g. data_dir = \"/var/lib/gatewayd\"")
                }
            }
            if let share = section("share") { configuration.shareGroup = string(share, "share", "group") }
            if let inbox = section("inbox"), let path = string(inbox, "inbox", "folder") {
                if path.hasPrefix("/") { configuration.inboxFolder = path } else {
                    issue("inbox.folder", "must be an absolute path, found \"\(path)\"", hint: "e.g. folder = \"/srv/vanban/den\"")
                }
            }
            if let agency = section("agency") {
                if let code = string(agency, "agency", "code") {
                    if let parsed = AgencyCode(code) { configuration.agency.code = parsed } else {
                        issue("agency.code", "\"\(code)\" is not an agency code (mã định danh)", hint: "the form is DDD.DD.DD.XNN, e.g. 000.00.20.H13")
                    }
                }
                configuration.agency.name = string(agency, "agency", "name")
                if let taxCode = string(agency, "agency", "tax_code") {
                    let trimmed = taxCode.trimmingCharacters(in: .whitespaces)
                    if SubjectIdentifier(kind: .taxCode, value: trimmed) != nil { configuration.agency.taxCode = trimmed } else {
                        issue("agency.tax_code", "\"\(taxCode)\" không phải mã số thuế / is not a tax code (MST)",
                              hint: "10 digits, or 10-3 for a dependent unit, without \"MST:\", e.g. tax_code = \"0401234567\" or \"0401234567-001\"")
                    }
                }
                if let budgetCode = string(agency, "agency", "budget_code") {
                    let trimmed = budgetCode.trimmingCharacters(in: .whitespaces)
                    if SubjectIdentifier(kind: .budgetCode, value: trimmed) != nil { configuration.agency.budgetCode = trimmed } else {
                        issue("agency.budget_code", "\"\(budgetCode)\" không phải mã ĐVQHNS / is not a budget-relation code (MNS)",
                              hint: "7 digits, without \"MNS:\", e.g. budget_code = \"1234567\"")
                    }
                }
            }
            if let intake = section("intake") {
                if let path = string(intake, "intake", "hot_folder") {
                    if path.hasPrefix("/") { configuration.intake.hotFolder = path } else {
                        issue("intake.hot_folder", "must be an absolute path, found \"\(path)\"", hint: nil)
                    }
                }
                if let enabled = bool(intake, "intake", "hot_folder_enabled") { configuration.intake.hotFolderEnabled = enabled }
                if let size = size(intake, "intake", "max_document_size") {
                    if size > 0 { configuration.intake.maximumDocumentSize = size } else { issue("intake.max_document_size", "must be more than 0", hint: nil) }
                }
                if let size = size(intake, "intake", "disk_reserve") { configuration.intake.diskReserve = size }
                if let list = intake["default_recipients"] {
                    if let array = list.array {
                        var codes: [AgencyCode] = []
                        for (index, item) in array.enumerated() {
                            if let text = item.string, let code = AgencyCode(text) { codes.append(code) } else {
                                issue("intake.default_recipients", "item \(index + 1) is not an agency code: \(item.tomlValue.debugDescription)", hint: "the form is DDD.DD.DD.XNN, e.g. [\"000.00.20.H13\"]")
                            }
                        }
                        configuration.intake.defaultRecipients = codes
                    } else {
                        issue("intake.default_recipients", "must be a list of agency codes", hint: "e.g. default_recipients = [\"000.00.20.H13\"]")
                    }
                }
                if let delay = duration(intake, "intake", "settle_delay") { configuration.intake.settleDelay = delay }
                if let interval = duration(intake, "intake", "disk_retry_interval") {
                    if interval > .zero { configuration.intake.diskRetryInterval = interval } else { issue("intake.disk_retry_interval", "must be more than 0", hint: nil) }
                }
            }
            if let api = section("api") {
                if let socket = string(api, "api", "socket") {
                    if socket.hasPrefix("/"), socket.utf8.count < 108 { configuration.api.socketPath = socket } else {
                        issue("api.socket", "must be an absolute path shorter than 108 bytes (a Unix socket limit)", hint: nil)
                    }
                }
                configuration.api.socketGroup = string(api, "api", "socket_group")
                if let value = api["max_connections"] {
                    if let number = value.int, (8...4096).contains(number) { configuration.api.maximumConnections = number } else {
                        issue("api.max_connections", "must be a whole number from 8 to 4096", hint: "e.g. max_connections = 256 (the unit's LimitNOFILE is 8192)")
                    }
                }
                if let timeout = duration(api, "api", "idle_timeout") {
                    if timeout >= .seconds(1) { configuration.api.idleTimeout = timeout } else { issue("api.idle_timeout", "must be 1s or more", hint: "e.g. idle_timeout = \"30s\"") }
                }
                if let tcp = string(api, "api", "tcp") {
                    if let address = TCPAddress(tcp) {
                        // The local API has no authentication: it is for programs on this box.
                        // LAN clients use the console's HTTPS API with its tokens.
                        if address.isLoopback { configuration.api.tcpAddress = tcp } else {
                            issue("api.tcp", "\"\(tcp)\" is not a loopback address: the local API has no authentication, so it may listen on this box only",
                                  hint: "e.g. tcp = \"127.0.0.1:8750\"; office PCs and the commune's software use the console's HTTPS API ([console]) with an API token")
                        }
                    } else {
                        issue("api.tcp", "\"\(tcp)\" is not HOST:PORT", hint: "e.g. tcp = \"127.0.0.1:8750\"; leave it out to serve on the Unix socket only")
                    }
                }
                if let metrics = string(api, "api", "metrics_listen") {
                    if TCPAddress(metrics) != nil { configuration.api.metricsAddress = metrics } else {
                        issue("api.metrics_listen", "\"\(metrics)\" is not HOST:PORT", hint: "e.g. metrics_listen = \"0.0.0.0:9750\" for the province's Prometheus")
                    }
                }
            }
            if let console = section("console") {
                if let enabled = bool(console, "console", "enabled") { configuration.console.enabled = enabled }
                if let listen = string(console, "console", "listen") {
                    if TCPAddress(listen) != nil { configuration.console.listen = listen } else {
                        issue("console.listen", "\"\(listen)\" is not HOST:PORT", hint: "e.g. listen = \"0.0.0.0:8443\"")
                    }
                }
                for (key, path) in [("warn_signature_days", \GatewayConfiguration.Console.warnSignatureDays), ("warn_seal_days", \.warnSealDays),
                                    ("warn_undelivered_hours", \.warnUndeliveredHours)] {
                    guard let value = console[key] else { continue }
                    if let number = value.int, number >= 1, number <= 1000 { configuration.console[keyPath: path] = Int(number) } else {
                        issue("console.\(key)", "must be a whole number from 1 to 1000", hint: "e.g. \(key) = 2")
                    }
                }
            }
            // Before [upstream]: with enrolment, its certificate and key may be left out.
            if let enrolment = section("enrolment") { readEnrolment(enrolment, into: &configuration.enrolment) }
            if let upstream = section("upstream") {
                readUpstream(upstream, into: &configuration.upstream, enrolling: configuration.enrolment.isConfigured)
            }
            // The certificate and key then default to the data directory (`resolvedUpstream`),
            // resolved late because `--data-dir` may still move it.
            if configuration.enrolment.isConfigured {
                if configuration.upstream.url == nil {
                    issue("enrolment.url", "cần [upstream] url / needs [upstream] url", hint: "the box enrols to relay: set [upstream] url and ca_file too")
                }
            }
            if let signing = section("signing") { readSigning(signing, into: &configuration.signing) }
            if let tokens = section("tokens") { readTokens(tokens, into: &configuration.tokens) }
            if let backup = section("backup") { readBackup(backup, into: &configuration.backup) }
            if let trust = section("trust") {
                if let list = trust["anchors"] {
                    if let array = list.array {
                        for (index, item) in array.enumerated() {
                            if let path = item.string, path.hasPrefix("/") { configuration.trust.anchors.append(path) } else {
                                issue("trust.anchors", "mục \(index + 1) phải là đường dẫn tuyệt đối / item \(index + 1) must be an absolute path: \(item.tomlValue.debugDescription)",
                                      hint: "PEM files of the root CAs, e.g. anchors = [\"/etc/gatewayd/trust/rootca-vn.pem\"]")
                            }
                        }
                    } else {
                        issue("trust.anchors", "phải là danh sách tệp PEM / must be a list of PEM files", hint: "e.g. anchors = [\"/etc/gatewayd/trust/rootca-vn.pem\"]")
                    }
                }
                if let check = bool(trust, "trust", "check_revocation") { configuration.trust.checkRevocation = check }
                if let interval = duration(trust, "trust", "recheck_interval") {
                    if interval > .zero { configuration.trust.recheckInterval = interval } else { issue("trust.recheck_interval", "must be more than 0", hint: "e.g. recheck_interval = \"1h\"") }
                }
            }
            if let log = section("log"), let level = string(log, "log", "level") {
                let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
                if levels.contains(level) { configuration.logLevel = level } else {
                    issue("log.level", "unknown level \"\(level)\"", hint: "one of \(levels.joined(separator: ", "))")
                }
            }
            return configuration
        }

        /// A string that must be there and not blank, trimmed.
        mutating func requiredText(_ table: TOMLTable, _ section: String, _ key: String, hint: String) -> String? {
            guard table[key] != nil else {
                issue(join(section, key), "thiếu / is missing", hint: hint)
                return nil
            }
            guard let text = string(table, section, key) else { return nil }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else {
                issue(join(section, key), "không được để trống / must not be empty", hint: hint)
                return nil
            }
            return trimmed
        }

        mutating func absolutePath(_ table: TOMLTable, _ section: String, _ key: String, example: String) -> String? {
            guard let path = string(table, section, key) else { return nil }
            guard path.hasPrefix("/") else {
                issue(join(section, key), "phải là đường dẫn tuyệt đối / must be an absolute path, found \"\(path)\"", hint: "e.g. \(key) = \"\(example)\"")
                return nil
            }
            return path
        }

        /// One of an enumeration's words, e.g. `numbering = "per_notation"`.
        mutating func choice<Choice: RawRepresentable & CaseIterable>(_ table: TOMLTable, _ section: String, _ key: String) -> Choice?
            where Choice.RawValue == String {
            guard let word = string(table, section, key) else { return nil }
            if let value = Choice(rawValue: word) { return value }
            issue(join(section, key), "không có lựa chọn \"\(word)\" / unknown choice \"\(word)\"",
                  hint: "one of " + Choice.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))
            return nil
        }

        mutating func section(_ name: String) -> TOMLTable? {
            guard let value = table[name] else { return nil }
            guard let section = value.table else {
                issue(name, "must be a section [\(name)]", hint: "write [\(name)] on its own line, then its keys")
                return nil
            }
            checkKeys(section, section: name)
            return section
        }

        /// `label` names the table in the issue when it is not `section` itself (`signing.leaders[2]`).
        mutating func checkKeys(_ table: TOMLTable, section: String, label: String? = nil) {
            let known = (Self.sections[section] ?? []).union(extraKeys[section] ?? [])
            for key in table.keys.sorted() where !known.contains(key) {
                let full = join(label ?? section, key)
                let suggestion = known.min { editDistance($0, key) < editDistance($1, key) }
                let hint = suggestion.flatMap { editDistance($0, key) <= 3 ? "did you mean \"\($0)\"?" : nil }
                    ?? "known keys here: \(known.sorted().joined(separator: ", "))"
                issue(full, "unknown key", hint: hint)
            }
        }

        mutating func string(_ table: TOMLTable, _ section: String, _ key: String) -> String? {
            guard let value = table[key] else { return nil }
            guard let text = value.string else {
                issue(join(section, key), "must be a string in double quotes, found \(value.type)", hint: "e.g. \(key) = \"…\"")
                return nil
            }
            return text
        }

        mutating func bool(_ table: TOMLTable, _ section: String, _ key: String) -> Bool? {
            guard let value = table[key] else { return nil }
            guard let flag = value.bool else {
                issue(join(section, key), "must be true or false, found \(value.type)", hint: nil)
                return nil
            }
            return flag
        }

        mutating func size(_ table: TOMLTable, _ section: String, _ key: String) -> Int64? {
            guard let value = table[key] else { return nil }
            if let number = value.int, number >= 0 { return Int64(number) }
            if let text = value.string, let bytes = ByteCountText.parse(text) { return bytes }
            issue(join(section, key), "is not a size: \(value.tomlValue.debugDescription)", hint: "a whole number of bytes or text such as \"100 MB\", \"512 KiB\"")
            return nil
        }

        mutating func duration(_ table: TOMLTable, _ section: String, _ key: String) -> Duration? {
            guard let value = table[key] else { return nil }
            if let number = value.int, number >= 0 { return .seconds(number) }
            if let number = value.double, number >= 0 { return .milliseconds(Int64(number * 1000)) }
            if let text = value.string, let duration = DurationText.parse(text) { return duration }
            issue(join(section, key), "is not a duration: \(value.tomlValue.debugDescription)", hint: "seconds as a number, or text such as \"500ms\", \"30s\", \"5m\"")
            return nil
        }

        func join(_ section: String, _ key: String) -> String { section.isEmpty ? key : "\(section).\(key)" }

        mutating func issue(_ key: String, _ message: String, hint: String?) {
            issues.append(ConfigurationIssue(key: key, line: locator.line(of: key), message: message, hint: hint))
        }
    }
}
