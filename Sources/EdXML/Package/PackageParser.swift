import CLibXML2

/// The libxml2 tree of a received package as typed values. Names are matched by namespace URI
/// and local name, whatever prefix the producer chose, and in any order. What the package
/// cannot do without is required (an error); everything else that breaks a rule is a finding.
struct PackageParser {
    let parsed: ParsedXML
    var findings: [Finding] = []
    private let ns = EdXML.namespace

    init(parsed: ParsedXML) { self.parsed = parsed }

    /// Attachments in the order of `AttachmentEncoded`, with the index of their decoded bytes.
    var attachmentIndices: [Int] = []

    mutating func parse() throws -> Package {
        guard let root = parsed.tree.root else { throw EdXMLError.notEdXML("tài liệu rỗng / empty document") }
        guard root.isNamed("edXML", in: ns) else {
            throw EdXMLError.notEdXML("phần tử gốc là {\(root.namespaceURI ?? "")}\(root.localName), cần {\(ns)}edXML / root element is {\(root.namespaceURI ?? "")}\(root.localName), expected {\(ns)}edXML")
        }
        let envelope = try required(root, "edXMLEnvelope", path: "edXMLEnvelope")
        let header = try required(envelope, "edXMLHeader", path: "edXMLEnvelope/edXMLHeader")
        let message = try required(header, "MessageHeader", path: "edXMLHeader/MessageHeader")
        if message.child(named: "StatusCode", in: ns) != nil {
            return .status(try status(message))
        }
        return .document(try document(message, header: header, envelope: envelope, root: root))
    }

    // MARK: - Document

    private mutating func document(_ message: xmlNodePtr, header: xmlNodePtr, envelope: xmlNodePtr, root: xmlNodePtr) throws -> DocumentPackage {
        let from = try organization(try required(message, "From", path: "MessageHeader/From"), path: "MessageHeader/From")
        let toNodes = message.children(named: "To", in: ns)
        guard !toNodes.isEmpty else { throw EdXMLError.missingField("MessageHeader/To") }
        let to = try toNodes.enumerated().map { try organization($1, path: "MessageHeader/To[\($0 + 1)]") }
        let codeNode = try required(message, "Code", path: "MessageHeader/Code")
        let code = DocumentCode(number: try requiredToken(codeNode, "CodeNumber", path: "MessageHeader/Code/CodeNumber"),
                                notation: try requiredToken(codeNode, "CodeNotation", path: "MessageHeader/Code/CodeNotation"))
        guard let subject = text(message, "Subject"), !subject.allSatisfy(\.isWhitespace) else { throw EdXMLError.missingField("MessageHeader/Subject") }
        let promulgation = message.child(named: "PromulgationInfo", in: ns)
        let type = message.child(named: "DocumentType", in: ns)
        let signer = message.child(named: "SignerInfo", in: ns)
        let other = message.child(named: "OtherInfo", in: ns)
        let otherInfo = OtherInfo(
            priority: number(other, "Priority", path: "MessageHeader/OtherInfo/Priority"),
            sphereOfPromulgation: text(other, "SphereOfPromulgation"),
            typerNotation: text(other, "TyperNotation"),
            promulgationAmount: number(other, "PromulgationAmount", path: "MessageHeader/OtherInfo/PromulgationAmount"),
            pageAmount: number(other, "PageAmount", path: "MessageHeader/OtherInfo/PageAmount"),
            direction: text(other, "Direction"),
            appendixes: (other?.child(named: "Appendixes", in: ns)?.children(named: "Appendix", in: ns) ?? []).map(\.textContent))
        let messageHeader = MessageHeader(
            from: from, to: to, code: code,
            promulgationInfo: PromulgationInfo(place: text(promulgation, "Place"), date: token(promulgation, "PromulgationDate")),
            documentType: DocumentType(type: token(type, "Type"), typeDetail: token(type, "TypeDetail"), typeName: text(type, "TypeName")),
            subject: subject,
            content: text(message, "Content"),
            signerInfo: signer.map { SignerInfo(competence: text($0, "Competence"), position: text($0, "Position"), fullName: text($0, "FullName")) },
            dueDate: token(message, "DueDate"),
            toPlaces: (message.child(named: "ToPlaces", in: ns)?.children(named: "Place", in: ns) ?? []).map(\.textContent),
            otherInfo: otherInfo,
            steeringType: number(message, "SteeringType", path: "MessageHeader/SteeringType"),
            documentId: token(message, "DocumentId"),
            responseFor: try message.children(named: "ResponseFor", in: ns).enumerated().map { try responseFor($1, path: "MessageHeader/ResponseFor[\($0 + 1)]") })

        var traces: [TraceHeader] = []
        var business: Business?
        if let list = header.child(named: "TraceHeaderList", in: ns) {
            for (index, node) in list.children(named: "TraceHeader", in: ns).enumerated() {
                let path = "TraceHeaderList/TraceHeader[\(index + 1)]"
                traces.append(TraceHeader(organId: try requiredToken(node, "OrganId", path: path + "/OrganId"), timestamp: token(node, "Timestamp") ?? ""))
            }
            if let node = list.child(named: "Bussiness", in: ns) {
                business = self.business(node)
            }
        }

        let attachments = try self.attachments(root: root, envelope: envelope)
        var package = DocumentPackage(header: messageHeader, traces: traces, business: business, attachments: attachments)
        // Received packages are judged by the same rules we build by, as findings.
        package.attachments = attachments
        findings += package.findings().filter { finding in !findings.contains(finding) }
        return package
    }

    private mutating func business(_ node: xmlNodePtr) -> Business {
        let docTypeNumber = number(node, "BussinessDocType", path: "TraceHeaderList/Bussiness/BussinessDocType")
        return Business(
            docType: BusinessDocType(rawValue: docTypeNumber ?? 0),
            reason: text(node, "BussinessDocReason"),
            documentId: token(node, "DocumentId"),
            paper: number(node, "Paper", path: "TraceHeaderList/Bussiness/Paper"),
            staffInfo: node.children(named: "StaffInfo", in: ns).map(staffInfo),
            documentInfo: node.children(named: "BussinessDocumentInfo", in: ns).map { info in
                BusinessDocumentInfo(
                    documentInfo: text(info, "DocumentInfo"),
                    documentReceiver: text(info, "DocumentReceiver"),
                    receivers: info.children(named: "ReceiverList", in: ns).flatMap { $0.children(named: "Receiver", in: ns) }.map {
                        BusinessDocumentInfo.Receiver(organId: token($0, "OrganId") ?? "", receiverType: token($0, "ReceiverType"))
                    })
            },
            replacements: (node.child(named: "ReplacementInfoList", in: ns)?.children(named: "ReplacementInfo", in: ns) ?? []).map { info in
                ReplacementInfo(documentId: token(info, "DocumentId") ?? "",
                                organIds: (info.child(named: "OrganIdList", in: ns)?.children(named: "OrganId", in: ns) ?? []).map { Self.trimmed($0.textContent) })
            })
    }

    private mutating func attachments(root: xmlNodePtr, envelope: xmlNodePtr) throws -> [AttachmentInfo] {
        let references = envelope.child(named: "edXMLBody", in: ns)?.child(named: "edXMLManifest", in: ns)?.children(named: "Reference", in: ns) ?? []
        var manifest: [String: xmlNodePtr] = [:]
        for reference in references {
            if let id = token(reference, "ContentId") { manifest[Self.bareContentId(id)] = reference }
        }
        let nodes = root.child(named: "AttachmentEncoded", in: ns)?.children(named: "Attachment", in: ns) ?? []
        var result: [AttachmentInfo] = []
        var used = Set<String>()
        for (index, node) in nodes.enumerated() {
            let path = "AttachmentEncoded/Attachment[\(index + 1)]"
            guard let encoded = node.child(named: "ContentTransferEncoded", in: ns), let decoded = parsed.attachmentIndex(of: encoded) else {
                throw EdXMLError.missingField(path + "/ContentTransferEncoded")
            }
            let contentId = Self.bareContentId(try requiredToken(node, "ContentId", path: path + "/ContentId"))
            let reference = manifest[contentId]
            if reference == nil {
                findings.append(Finding(path: path, problem: "không có trong edXMLManifest / not listed in edXMLManifest"))
            }
            used.insert(contentId)
            var name = text(node, "AttachmentName") ?? reference.flatMap { text($0, "AttachmentName") }
            if name == nil || name!.isEmpty {
                findings.append(Finding(path: path + "/AttachmentName", problem: "trống / empty"))
                name = "attachment-\(index + 1)"
            }
            var contentType = token(node, "ContentType") ?? reference.flatMap { token($0, "ContentType") }
            if contentType == nil {
                findings.append(Finding(path: path + "/ContentType", problem: "trống / empty"))
                contentType = "application/octet-stream"
            }
            result.append(AttachmentInfo(contentId: contentId, name: name!, contentType: contentType!,
                                         description: text(node, "Description") ?? reference.flatMap { text($0, "Description") }))
            attachmentIndices.append(decoded)
        }
        for id in manifest.keys.sorted() where !used.contains(id) {
            findings.append(Finding(path: "edXMLManifest/Reference[cid:\(id)]", problem: "không có tệp đính kèm tương ứng / no matching attachment"))
        }
        return result
    }

    // MARK: - Status

    private mutating func status(_ message: xmlNodePtr) throws -> StatusPackage {
        let from = try organization(try required(message, "From", path: "MessageHeader/From"), path: "MessageHeader/From")
        let response = try responseFor(try required(message, "ResponseFor", path: "MessageHeader/ResponseFor"), path: "MessageHeader/ResponseFor")
        let codeText = try requiredToken(message, "StatusCode", path: "MessageHeader/StatusCode")
        guard let code = StatusCode(rawValue: codeText) else {
            throw EdXMLError.invalidFields([Finding(path: "MessageHeader/StatusCode", problem: "\"\(codeText)\" không phải mã hai chữ số / is not a two-digit code")])
        }
        let status = StatusPackage(
            from: from, responseFor: response,
            staffInfo: message.child(named: "StaffInfo", in: ns).map(staffInfo),
            statusCode: code,
            description: text(message, "Description"),
            timestamp: try requiredToken(message, "Timestamp", path: "MessageHeader/Timestamp"))
        findings += status.findings().filter { finding in !findings.contains(finding) }
        return status
    }

    // MARK: - Fields

    private func organization(_ node: xmlNodePtr, path: String) throws -> Organization {
        Organization(organId: try requiredToken(node, "OrganId", path: path + "/OrganId"),
                     organizationInCharge: text(node, "OrganizationInCharge"), organName: text(node, "OrganName"),
                     organAdd: text(node, "OrganAdd"), email: token(node, "Email"), telephone: token(node, "Telephone"),
                     fax: token(node, "Fax"), website: token(node, "Website"))
    }

    private func responseFor(_ node: xmlNodePtr, path: String) throws -> ResponseFor {
        ResponseFor(organId: try requiredToken(node, "OrganId", path: path + "/OrganId"), code: token(node, "Code"),
                    promulgationDate: token(node, "PromulgationDate"), documentId: token(node, "DocumentId"))
    }

    private func staffInfo(_ node: xmlNodePtr) -> StaffInfo {
        StaffInfo(department: text(node, "Department"), staff: text(node, "Staff"), mobile: token(node, "Mobile"), email: token(node, "Email"))
    }

    private func required(_ parent: xmlNodePtr, _ name: String, path: String) throws -> xmlNodePtr {
        guard let node = parent.child(named: name, in: ns) else { throw EdXMLError.missingField(path) }
        return node
    }

    private func requiredToken(_ parent: xmlNodePtr, _ name: String, path: String) throws -> String {
        guard let value = token(parent, name), !value.isEmpty else { throw EdXMLError.missingField(path) }
        return value
    }

    /// Free text, exactly as sent (Vietnamese included); nil when the element is absent.
    private func text(_ parent: xmlNodePtr?, _ name: String) -> String? {
        parent?.child(named: name, in: ns)?.textContent
    }

    /// Codes, dates, identifiers: surrounding whitespace is layout, not data.
    private func token(_ parent: xmlNodePtr?, _ name: String) -> String? {
        text(parent, name).map(Self.trimmed)
    }

    private mutating func number(_ parent: xmlNodePtr?, _ name: String, path: String) -> Int? {
        guard let value = token(parent, name), !value.isEmpty else { return nil }
        guard let number = Int(value) else {
            findings.append(Finding(path: path, problem: "\"\(value)\" không phải số / is not a number"))
            return nil
        }
        return number
    }

    static func trimmed(_ text: String) -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        return String(text.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }

    /// `cid:abc`, `<abc>` and `abc` name the same content.
    static func bareContentId(_ id: String) -> String {
        var id = trimmed(id)
        if id.lowercased().hasPrefix("cid:") { id.removeFirst(4) }
        if id.hasPrefix("<") && id.hasSuffix(">") && id.count >= 2 { id = String(id.dropFirst().dropLast()) }
        return id
    }
}
