import DocumentModel
import Foundation
import TOMLKit

/// hubd's configuration (docs/hubd.md): a plain struct with defaults, read from TOML strictly —
/// an unknown key is an error, since a misspelt key silently ignored is a hub misconfigured.
package struct HubConfiguration: Sendable, Equatable {
    package struct Agency: Sendable, Equatable, Codable {
        package var code: String
        package var name: String
        /// A commune whose box connects to this hub (its inbox is here).
        package var served: Bool

        package init(code: String, name: String, served: Bool) {
            self.code = code
            self.name = name
            self.served = served
        }
    }

    /// Host and port of the mTLS listener.
    package var listenHost = "0.0.0.0"
    package var listenPort = 8443
    /// The hub's TLS certificate chain and key (PEM).
    package var certificate = "/etc/hubd/hub.pem"
    package var key = "/etc/hubd/hub.key"
    /// The CA that issues box and office certificates (PEM, one or more).
    package var clientCA = "/etc/hubd/clients-ca.pem"
    /// A CRL of `clientCA` (PEM or DER), enforced at each handshake and read again when it changes
    /// (docs/hubd.md, "Revoking a box"); none by default.
    package var crlFile: String?
    /// The hub's own issuing CA, for `hubd revoke` to sign the CRL with; none until enrolment.
    package var caCertificate: String?
    package var caKey: String?
    /// The enrolment listener (`[enrolment] listen`, docs/protocol.md "Enrolment"): TLS with the
    /// hub's certificate, no client certificate asked; none unless configured.
    package var enrolmentHost: String?
    package var enrolmentPort: Int?
    /// The lifetime of the box certificates the hub issues (`[enrolment] certificate_lifetime`).
    package var certificateLifetime: Duration = .seconds(365 * 86400)
    /// The hub's own agency code and name, written into every receipt.
    package var hubCode = ""
    package var hubName = ""
    package var dataDirectory = "/var/lib/hubd"
    /// Where handed-off packages appear for the document system; default `<data>/handoff`.
    package var handoffDirectory: String?
    /// The receipt signing key and certificate chain; default: the TLS ones.
    package var receiptKey: String?
    package var receiptCertificate: String?
    /// Certificate CNs that act as the document system (docs/protocol.md, "Office API").
    package var officeCodes: [String] = []
    /// Certificate CNs of front proxies (nginx) allowed to forward a box's certificate
    /// (docs/hubd.md, "Behind nginx").
    package var proxyCodes: [String] = []
    package var agencies: [Agency] = []
    /// 1 GiB, the boxes' own default limit (gatewayd's `maximumIncomingSize`): a package the hub
    /// takes is one every box takes, so none sits in an inbox that can never be emptied. Announced
    /// in `Hub-Max-Package-Bytes` on every inbox listing.
    package var maxPackageBytes: Int64 = 1 << 30
    /// Longest long poll a client may ask for.
    package var maxWaitSeconds = 60
    /// A connection that sends nothing for this long while a request is being read (a box whose
    /// link went dark mid-upload) is closed, so its upload can be resumed on a new connection.
    package var idleTimeoutSeconds = 60
    /// A tus upload that receives nothing for this long is deleted with its bytes (tus expiration
    /// extension): a box that gave up, or was re-imaged, must not fill the hub's disk.
    package var uploadExpiryHours = 7 * 24
    /// Connections whose TLS handshake has not finished: closed after this many seconds, and at
    /// most so many per client address and in all (issue 16: a flood of bare connections).
    package var handshakeTimeoutSeconds = 10
    package var maxPendingHandshakesPerAddress = 16
    package var maxPendingHandshakes = 512
    /// A connection whose TLS handshake finished but whose first request head has not arrived
    /// this long after is closed (issue 16: a client dribbling a request head would otherwise
    /// hold its connection as long as each byte comes within the idle timeout).
    package var headerTimeoutSeconds = 10
    /// What one box may hold at the hub in unfinished tus uploads: how many, and the sum of their
    /// declared lengths (issue 16: one box must not fill the hub's disk with uploads it never
    /// finishes). Past either a new upload is refused with 429; other boxes are not affected.
    package var maxOpenUploadsPerBox = 32
    package var maxOpenUploadBytesPerBox: Int64 = 4 << 30

    package init() {}

    package var resolvedHandoffDirectory: String { handoffDirectory ?? dataDirectory + "/handoff" }
}

/// A configuration that cannot be used, with every reason found.
package struct HubConfigurationError: Error, CustomStringConvertible {
    package var path: String
    package var problems: [String]
    package var description: String { problems.map { "\(path): \($0)" }.joined(separator: "\n") }
}

extension HubConfiguration {
    package static func load(path: String) throws -> HubConfiguration {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw HubConfigurationError(path: path, problems: ["không đọc được tệp (UTF-8) / cannot read the file as UTF-8 text"])
        }
        return try parse(text, path: path)
    }

    package static func parse(_ text: String, path: String = "<config>") throws -> HubConfiguration {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch {
            throw HubConfigurationError(path: path, problems: ["không phải TOML hợp lệ / not valid TOML: \(error)"])
        }
        var problems: [String] = []
        var config = HubConfiguration()
        let sections: [String: Set<String>] = [
            "server": ["listen", "certificate", "key", "client_ca", "crl_file"],
            "ca": ["certificate_file", "key_file"],
            "enrolment": ["listen", "certificate_lifetime"],
            "hub": ["code", "name", "data_directory", "handoff_directory"],
            "receipts": ["key", "certificate"],
            "office": ["codes"],
            "proxy": ["codes"],
            "limits": ["max_package_bytes", "max_wait_seconds", "idle_timeout_seconds", "upload_expiry_hours",
                       "handshake_timeout_seconds", "max_pending_handshakes_per_address", "max_pending_handshakes",
                       "max_open_uploads_per_box", "max_open_upload_bytes_per_box", "header_timeout_seconds"],
        ]
        for key in table.keys where sections[key] == nil && key != "agency" {
            problems.append("khóa lạ / unknown key \"\(key)\"")
        }
        func section(_ name: String) -> TOMLTable? {
            guard let value = table[name] else { return nil }
            guard let sub = value.table else { problems.append("[\(name)] phải là bảng / must be a table"); return nil }
            for key in sub.keys where !(sections[name]?.contains(key) ?? false) { problems.append("khóa lạ / unknown key \"\(name).\(key)\"") }
            return sub
        }
        func string(_ t: TOMLTable?, _ section: String, _ key: String) -> String? {
            guard let value = t?[key] else { return nil }
            guard let s = value.string else { problems.append("\(section).\(key) phải là chuỗi / must be a string"); return nil }
            return s
        }
        func int(_ t: TOMLTable?, _ section: String, _ key: String) -> Int? {
            guard let value = t?[key] else { return nil }
            guard let i = value.int else { problems.append("\(section).\(key) phải là số nguyên / must be an integer"); return nil }
            return i
        }

        func address(_ t: TOMLTable?, _ section: String) -> (host: String, port: Int)? {
            guard let listen = string(t, section, "listen") else { return nil }
            guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
                problems.append("\(section).listen phải có dạng HOST:PORT / must be HOST:PORT")
                return nil
            }
            return (String(listen[..<colon]), port)
        }
        let server = section("server")
        if let (host, port) = address(server, "server") { (config.listenHost, config.listenPort) = (host, port) }
        if let v = string(server, "server", "certificate") { config.certificate = v }
        if let v = string(server, "server", "key") { config.key = v }
        if let v = string(server, "server", "client_ca") { config.clientCA = v }
        config.crlFile = string(server, "server", "crl_file")
        let ca = section("ca")
        config.caCertificate = string(ca, "ca", "certificate_file")
        config.caKey = string(ca, "ca", "key_file")
        let enrolment = section("enrolment")
        if let (host, port) = address(enrolment, "enrolment") { (config.enrolmentHost, config.enrolmentPort) = (host, port) }
        if let text = string(enrolment, "enrolment", "certificate_lifetime") {
            // At least a minute: renewal at 2/3 of the lifetime must leave the box time to act;
            // tests of renewal use a few minutes.
            if let lifetime = DurationText.parse(text), lifetime >= .seconds(60) { config.certificateLifetime = lifetime } else {
                problems.append("enrolment.certificate_lifetime: \"10m\", \"2h\", \"30d\", \"365d\" (≥ 1m)")
            }
        }
        let hub = section("hub")
        if let v = string(hub, "hub", "code") { config.hubCode = v }
        if let v = string(hub, "hub", "name") { config.hubName = v }
        if let v = string(hub, "hub", "data_directory") { config.dataDirectory = v }
        config.handoffDirectory = string(hub, "hub", "handoff_directory")
        let receipts = section("receipts")
        config.receiptKey = string(receipts, "receipts", "key")
        config.receiptCertificate = string(receipts, "receipts", "certificate")
        func codes(_ name: String) -> [String] {
            guard let codes = section(name)?["codes"] else { return [] }
            guard let array = codes.array, array.allSatisfy({ $0.string != nil }) else {
                problems.append("\(name).codes phải là danh sách chuỗi / must be a list of strings")
                return []
            }
            return array.compactMap { $0.string }
        }
        config.officeCodes = codes("office")
        config.proxyCodes = codes("proxy")
        let limits = section("limits")
        if let v = int(limits, "limits", "max_package_bytes") { config.maxPackageBytes = Int64(v) }
        if let v = int(limits, "limits", "max_wait_seconds") { config.maxWaitSeconds = v }
        if let v = int(limits, "limits", "idle_timeout_seconds") { config.idleTimeoutSeconds = v }
        if let v = int(limits, "limits", "upload_expiry_hours") { config.uploadExpiryHours = v }
        if let v = int(limits, "limits", "handshake_timeout_seconds") { config.handshakeTimeoutSeconds = v }
        if let v = int(limits, "limits", "max_pending_handshakes_per_address") { config.maxPendingHandshakesPerAddress = v }
        if let v = int(limits, "limits", "max_pending_handshakes") { config.maxPendingHandshakes = v }
        if let v = int(limits, "limits", "max_open_uploads_per_box") { config.maxOpenUploadsPerBox = v }
        if let v = int(limits, "limits", "max_open_upload_bytes_per_box") { config.maxOpenUploadBytesPerBox = Int64(v) }
        if let v = int(limits, "limits", "header_timeout_seconds") { config.headerTimeoutSeconds = v }

        if let agencies = table["agency"] {
            if let array = agencies.array {
                for (index, item) in array.enumerated() {
                    guard let entry = item.table else { problems.append("agency[\(index)] phải là bảng / must be a table"); continue }
                    for key in entry.keys where !["code", "name", "served"].contains(key) {
                        problems.append("khóa lạ / unknown key \"agency[\(index)].\(key)\"")
                    }
                    guard let code = entry["code"]?.string, let name = entry["name"]?.string else {
                        problems.append("agency[\(index)] cần code và name / needs code and name"); continue
                    }
                    config.agencies.append(Agency(code: code, name: name, served: entry["served"]?.bool ?? false))
                }
            } else {
                problems.append("agency phải là [[agency]] / must be an array of tables [[agency]]")
            }
        }

        if config.hubCode.isEmpty { problems.append("thiếu hub.code / hub.code is required") }
        if config.hubName.isEmpty { problems.append("thiếu hub.name / hub.name is required") }
        if !(1...3600).contains(config.maxWaitSeconds) { problems.append("limits.max_wait_seconds: 1–3600") }
        if !(1...3600).contains(config.idleTimeoutSeconds) { problems.append("limits.idle_timeout_seconds: 1–3600") }
        if !(1...8760).contains(config.uploadExpiryHours) { problems.append("limits.upload_expiry_hours: 1–8760") }
        if !(1...120).contains(config.handshakeTimeoutSeconds) { problems.append("limits.handshake_timeout_seconds: 1–120") }
        if !(1...4096).contains(config.maxPendingHandshakesPerAddress) { problems.append("limits.max_pending_handshakes_per_address: 1–4096") }
        if !(1...65536).contains(config.maxPendingHandshakes) { problems.append("limits.max_pending_handshakes: 1–65536") }
        if config.maxPackageBytes < 1 { problems.append("limits.max_package_bytes phải dương / must be positive") }
        if !(1...100_000).contains(config.maxOpenUploadsPerBox) { problems.append("limits.max_open_uploads_per_box: 1–100000") }
        // Below the package limit, a box could never upload its largest allowed package.
        if config.maxOpenUploadBytesPerBox < config.maxPackageBytes {
            problems.append("limits.max_open_upload_bytes_per_box phải ≥ max_package_bytes / must be at least max_package_bytes")
        }
        if !(1...120).contains(config.headerTimeoutSeconds) { problems.append("limits.header_timeout_seconds: 1–120") }
        let codes = config.agencies.map(\.code)
        if Set(codes).count != codes.count { problems.append("agency: mã trùng / duplicate code") }
        // A proxy only relays: were its CN also a commune or the office, every request it
        // forwards without a certificate would need a rule for which identity wins.
        if !Set(config.proxyCodes).isDisjoint(with: Set(codes + config.officeCodes)) {
            problems.append("proxy.codes không được trùng mã xã hay office.codes / must not repeat an agency code or office.codes")
        }
        if (config.caCertificate == nil) != (config.caKey == nil) {
            problems.append("[ca] cần cả certificate_file và key_file / needs both certificate_file and key_file")
        }
        // The enrolment listener issues certificates: without the hub's own CA there is nothing to issue with.
        if config.enrolmentPort != nil, config.caCertificate == nil {
            problems.append("[enrolment] cần [ca] certificate_file và key_file / needs [ca] certificate_file and key_file")
        }
        guard problems.isEmpty else { throw HubConfigurationError(path: path, problems: problems) }
        return config
    }
}
