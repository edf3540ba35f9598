import EdXML

/// What the hub needs to know of a package to accept and route it: its key (the identity that
/// makes submission idempotent), its sender and its recipients. Pure; see docs/protocol.md.
package struct PackageSummary: Sendable, Equatable {
    package enum Kind: String, Sendable, Codable { case document, status }

    package var kind: Kind
    package var key: String
    package var from: String
    /// Documents: every `To/OrganId`; statuses: the `ResponseFor/OrganId` (the original sender).
    package var recipients: [String]
    /// Statuses: the document they are about (`ResponseFor/DocumentId`, else its `Code`).
    package var about: String?

    package init(kind: Kind, key: String, from: String, recipients: [String], about: String? = nil) {
        self.kind = kind
        self.key = key
        self.from = from
        self.recipients = recipients
        self.about = about
    }

    /// Reads the summary off a parsed package, refusing what the hub cannot identify or route.
    package init(_ package: Package) throws(HubError) {
        switch package {
        case .document(let document):
            let header = document.header
            guard let id = header.documentId?.trimmed, !id.isEmpty else {
                throw HubError(.missingDocumentId, "Gói tin thiếu DocumentId", "The package has no DocumentId")
            }
            let recipients = header.to.map(\.organId.trimmed).filter { !$0.isEmpty }
            guard !recipients.isEmpty else {
                throw HubError(.missingRecipient, "Gói tin không có nơi nhận (To)", "The package has no recipient (To)")
            }
            self.init(kind: .document, key: id, from: header.from.organId.trimmed, recipients: recipients)
        case .status(let status):
            let about = status.responseFor
            guard let document = (about.documentId ?? about.code)?.trimmed, !document.isEmpty else {
                throw HubError(.missingDocumentId, "Gói trạng thái không nêu văn bản (ResponseFor/DocumentId)",
                               "The status package names no document (ResponseFor/DocumentId)")
            }
            let from = status.from.organId.trimmed
            let key = "status:\(from)|\(document)|\(status.statusCode.rawValue)|\(status.timestamp.trimmed)"
            let recipient = about.organId.trimmed
            guard !recipient.isEmpty else {
                throw HubError(.missingRecipient, "Gói trạng thái thiếu ResponseFor/OrganId", "The status package has no ResponseFor/OrganId")
            }
            self.init(kind: .status, key: key, from: from, recipients: [recipient], about: document)
        }
    }

    /// Refuses a package whose fields break edXML's rules (the reader's findings): a recipient
    /// could neither show nor answer it (a status 01 about a date that does not exist cannot be
    /// built), so it is refused here, to its sender, rather than noted and passed on.
    package static func checkFields(_ findings: [Finding]) throws(HubError) {
        guard !findings.isEmpty else { return }
        let list = findings.prefix(5).map(\.description).joined(separator: "; ")
        throw HubError(.invalidFields, "Gói tin có trường không hợp lệ: \(list)", "The package has fields that break the rules: \(list)")
    }

    /// A box may only send as the agency its certificate names.
    package func checkSender(certificateCode: String) throws(HubError) {
        guard from == certificateCode else {
            throw HubError(.senderMismatch, "Gói tin gửi từ \(from) nhưng chứng thư số là của \(certificateCode)",
                           "The package is from \(from) but the certificate belongs to \(certificateCode)")
        }
    }
}

/// Where an accepted package goes: the inboxes of served communes, and/or the hand-off to the
/// document system (once, whatever the number of other recipients).
package struct Routing: Sendable, Equatable {
    package var communes: [String]
    package var handOff: Bool

    package init(communes: [String], handOff: Bool) {
        self.communes = communes
        self.handOff = handOff
    }

    /// A package a box sent: served communes get it in their inbox, everything else is handed off.
    package static func fromBox(_ summary: PackageSummary, served: Set<String>) -> Routing {
        var communes: [String] = []
        var handOff = false
        for code in summary.recipients {
            if served.contains(code) {
                if !communes.contains(code) { communes.append(code) }
            } else {
                handOff = true
            }
        }
        return Routing(communes: communes, handOff: handOff)
    }

    /// A package the office posts down: only served communes; none is a refusal.
    package static func fromOffice(_ summary: PackageSummary, served: Set<String>) throws(HubError) -> Routing {
        let routing = fromBox(summary, served: served)
        guard !routing.communes.isEmpty else {
            throw HubError(.noServedRecipient, "Không nơi nhận nào là xã do hub này phục vụ: \(summary.recipients.joined(separator: ", "))",
                           "No recipient is a commune this hub serves: \(summary.recipients.joined(separator: ", "))")
        }
        return Routing(communes: routing.communes, handOff: false)
    }
}
