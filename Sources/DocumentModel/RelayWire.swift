import Foundation

/// The relay protocol's wire vocabulary (docs/protocol.md), in one place both ends use: hubd
/// writes these names and bodies, gatewayd reads them, so the two cannot drift apart.
package enum RelayWire {
    /// tus 1.0.0 (core + creation + expiration), https://tus.io/protocols/resumable-upload.
    package static let tusVersion = "1.0.0"
    package static let tusExtensions = "creation,expiration"
    package static let tusPatchContentType = "application/offset+octet-stream"
    package static let packageContentType = "application/xml"
    package static let errorContentType = "application/json; charset=utf-8"
    /// The key of the audit anchor in a tus upload's Upload-Metadata (`Header.auditHead`).
    package static let auditHeadMetadataKey = "audit_head"

    /// Header names, as HTTP spells them. Plain strings: this module links no HTTP library; each
    /// end wraps them in its own header type.
    package enum Header {
        package static let tusResumable = "Tus-Resumable"
        package static let tusVersion = "Tus-Version"
        package static let tusExtension = "Tus-Extension"
        package static let tusMaxSize = "Tus-Max-Size"
        package static let uploadLength = "Upload-Length"
        package static let uploadOffset = "Upload-Offset"
        package static let uploadMetadata = "Upload-Metadata"
        package static let uploadExpires = "Upload-Expires"
        /// Where the receipt of a package stored by a PATCH (or POST) can be fetched.
        package static let hubReceipt = "Hub-Receipt"
        package static let packageKey = "Hub-Package-Key"
        package static let packageSHA256 = "Hub-Package-SHA256"
        /// Present when the package was already stored under that key (idempotent resubmission).
        package static let duplicate = "Hub-Duplicate"
        /// A box's certificate forwarded by a front proxy the hub trusts (docs/hubd.md).
        package static let clientCertificate = "Hub-Client-Certificate"
        package static let retryAfter = "Retry-After"
        /// The box's audit anchor (`AuditAnchor.wire`) on a whole submission; a tus upload
        /// carries it in its Upload-Metadata as `audit_head` instead.
        package static let auditHead = "Hub-Audit-Head"
        package static let location = "Location"
        /// The largest package the hub accepts (`limits.max_package_bytes`), on every inbox
        /// listing: what a box may refuse as too large is what the hub would not take either.
        package static let maxPackageBytes = "Hub-Max-Package-Bytes"
    }

    /// Every JSON body the hub writes (lists, deliveries, errors), configured in this one place:
    /// sorted keys, slashes unescaped, a final newline (curl users read it in a terminal).
    package static func encodeJSON(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(0x0A)
        return data
    }
}

/// Every refusal the hub answers, by its machine code (docs/protocol.md, "Errors"): the hub
/// throws them, the box decides from them whether to retry or to reject.
package enum RelayErrorCode: String, Sendable, CaseIterable, Codable {
    case badRequest = "bad_request"
    case unknownClient = "unknown_client"
    case forwardedIdentity = "forwarded_identity"
    case forbidden
    case senderMismatch = "sender_mismatch"
    case notFound = "not_found"
    case keyConflict = "key_conflict"
    case offsetMismatch = "offset_mismatch"
    case tusVersion = "tus_version"
    case tooLarge = "too_large"
    case contentType = "content_type"
    case unreadablePackage = "unreadable_package"
    case missingDocumentId = "missing_document_id"
    case missingRecipient = "missing_recipient"
    case noServedRecipient = "no_served_recipient"
    /// Fields that break edXML's rules (a date that does not exist, an agency code of the wrong
    /// form): refused at submission, never noted and passed on to a box that cannot answer it.
    case invalidFields = "invalid_fields"
    /// A status about a document the hub never delivered to the status's sender.
    case notARecipient = "not_a_recipient"
    /// An enrolment token that does not open (unknown, used, expired, revoked, another agency's):
    /// one code for all, so a prober learns nothing (docs/protocol.md, "Enrolment").
    case enrolmentRefused = "enrolment_refused"
    case busy
    case storage
    case `internal`

    package var httpStatus: Int {
        switch self {
        case .badRequest: 400
        case .enrolmentRefused: 401
        case .unknownClient, .forwardedIdentity, .forbidden, .senderMismatch, .notARecipient: 403
        case .notFound: 404
        case .keyConflict, .offsetMismatch: 409
        case .tusVersion: 412
        case .tooLarge: 413
        case .contentType: 415
        case .unreadablePackage, .missingDocumentId, .missingRecipient, .noServedRecipient, .invalidFields: 422
        case .busy: 429
        case .internal: 500
        case .storage: 503
        }
    }

    /// Whether a client should try the same request again later (transient) or give up and
    /// tell a person (permanent).
    package var retry: Bool { httpStatus >= 500 || httpStatus == 408 || httpStatus == 429 }

    /// Seconds a client should wait before retrying, sent as `Retry-After`.
    package var retryAfterSeconds: Int? {
        switch self {
        case .storage: 60
        case .busy: 5
        default: nil
        }
    }
}

/// The JSON body of every refusal: `{"error": {"code", "retry", "message_vi", "message_en",
/// "message"}}`. `code` stays a string on the wire so that a newer hub's codes still decode on an
/// older box (as `RelayErrorCode(rawValue:)` = nil, classed by the HTTP status alone).
package struct RelayErrorBody: Codable, Sendable, Equatable {
    package struct Inner: Codable, Sendable, Equatable {
        package var code: String
        package var retry: Bool?
        package var message_vi: String?
        package var message_en: String?
        /// "Tiếng Việt / English", for clients that show one line.
        package var message: String?
    }

    package var error: Inner

    package init(code: RelayErrorCode, vi: String, en: String) {
        error = Inner(code: code.rawValue, retry: code.retry, message_vi: vi, message_en: en, message: "\(vi) / \(en)")
    }

    /// The bytes the hub sends: sorted keys, a final newline (curl users read it in a terminal).
    package func encoded() -> Data {
        (try? RelayWire.encodeJSON(self)) ?? Data([0x0A])
    }

    /// nil when the body is not the hub's error JSON (a proxy's HTML page, say).
    package init?(decoding bytes: some Sequence<UInt8>) {
        guard let body = try? JSONDecoder().decode(RelayErrorBody.self, from: Data(bytes)) else { return nil }
        self = body
    }
}
