import CLibXML2

/// The typed packages as libxml2 trees (building) — the shape of QCVN 102:2016 as docs/edxml.md
/// describes it. The attachments' text is a placeholder token; see `Placeholders`.
enum PackageTree {
    static func build(_ package: DocumentPackage, placeholders: Placeholders) -> (TreeBuilder, header: xmlNodePtr) {
        let b = TreeBuilder(rootName: "edXML")
        let envelope = b.element("edXMLEnvelope", in: b.root)
        let headerNode = b.element("edXMLHeader", in: envelope)
        let message = b.element("MessageHeader", in: headerNode)
        let h = package.header
        organization(h.from, "From", in: message, b)
        for to in h.to { organization(to, "To", in: message, b) }
        let code = b.element("Code", in: message)
        b.text("CodeNumber", h.code.number, in: code)
        b.text("CodeNotation", h.code.notation, in: code)
        let promulgation = b.element("PromulgationInfo", in: message)
        b.text("Place", h.promulgationInfo.place, in: promulgation)
        b.text("PromulgationDate", h.promulgationInfo.date, in: promulgation)
        let type = b.element("DocumentType", in: message)
        b.text("Type", h.documentType.type, in: type)
        b.text("TypeDetail", h.documentType.typeDetail, in: type)
        b.text("TypeName", h.documentType.typeName, in: type)
        b.text("Subject", h.subject, in: message)
        b.text("Content", h.content, in: message)
        if let signer = h.signerInfo {
            let node = b.element("SignerInfo", in: message)
            b.text("Competence", signer.competence, in: node)
            b.text("Position", signer.position, in: node)
            b.text("FullName", signer.fullName, in: node)
        }
        b.text("DueDate", h.dueDate, in: message)
        if !h.toPlaces.isEmpty {
            let places = b.element("ToPlaces", in: message)
            for place in h.toPlaces { b.text("Place", place, in: places) }
        }
        let other = b.element("OtherInfo", in: message)
        let o = h.otherInfo
        b.text("Priority", o.priority.map(String.init), in: other)
        b.text("SphereOfPromulgation", o.sphereOfPromulgation, in: other)
        b.text("TyperNotation", o.typerNotation, in: other)
        b.text("PromulgationAmount", o.promulgationAmount.map(String.init), in: other)
        b.text("PageAmount", o.pageAmount.map(String.init), in: other)
        b.text("Direction", o.direction, in: other)
        if !o.appendixes.isEmpty {
            let appendixes = b.element("Appendixes", in: other)
            for appendix in o.appendixes { b.text("Appendix", appendix, in: appendixes) }
        }
        for response in h.responseFor { responseFor(response, in: message, b) }
        b.text("SteeringType", h.steeringType.map(String.init), in: message)
        b.text("DocumentId", h.documentId, in: message)

        let traceList = b.element("TraceHeaderList", in: headerNode)
        for trace in package.traces {
            let node = b.element("TraceHeader", in: traceList)
            b.text("OrganId", trace.organId, in: node)
            b.text("Timestamp", trace.timestamp, in: node)
        }
        if let business = package.business {
            let node = b.element("Bussiness", in: traceList)
            b.text("BussinessDocType", String(business.docType.rawValue), in: node)
            b.text("BussinessDocReason", business.reason, in: node)
            b.text("DocumentId", business.documentId, in: node)
            b.text("Paper", business.paper.map(String.init), in: node)
            for staff in business.staffInfo { staffInfo(staff, in: node, b) }
            for info in business.documentInfo {
                let infoNode = b.element("BussinessDocumentInfo", in: node)
                b.text("DocumentInfo", info.documentInfo, in: infoNode)
                b.text("DocumentReceiver", info.documentReceiver, in: infoNode)
                let list = b.element("ReceiverList", in: infoNode)
                for receiver in info.receivers {
                    let receiverNode = b.element("Receiver", in: list)
                    b.text("ReceiverType", receiver.receiverType, in: receiverNode)
                    b.text("OrganId", receiver.organId, in: receiverNode)
                }
            }
            if !business.replacements.isEmpty {
                let list = b.element("ReplacementInfoList", in: node)
                for replacement in business.replacements {
                    let replacementNode = b.element("ReplacementInfo", in: list)
                    b.text("DocumentId", replacement.documentId, in: replacementNode)
                    let ids = b.element("OrganIdList", in: replacementNode)
                    for id in replacement.organIds { b.text("OrganId", id, in: ids) }
                }
            }
        }

        let body = b.element("edXMLBody", in: envelope)
        let manifest = b.element("edXMLManifest", in: body)
        for attachment in package.attachments {
            let reference = b.element("Reference", in: manifest)
            b.text("ContentId", "cid:" + attachment.contentId, in: reference)
            b.text("ContentType", attachment.contentType, in: reference)
            b.text("Description", attachment.description, in: reference)
            b.text("AttachmentName", attachment.name, in: reference)
        }
        if !package.attachments.isEmpty {
            let encoded = b.element("AttachmentEncoded", in: b.root)
            for (index, attachment) in package.attachments.enumerated() {
                let node = b.element("Attachment", in: encoded)
                b.text("ContentId", attachment.contentId, in: node)
                b.text("AttachmentName", attachment.name, in: node)
                b.text("Description", attachment.description, in: node)
                b.text("ContentType", attachment.contentType, in: node)
                b.text("ContentTransferEncoded", placeholders.token(index), in: node)
            }
        }
        return (b, headerNode)
    }

    static func build(_ status: StatusPackage) -> (TreeBuilder, header: xmlNodePtr) {
        let b = TreeBuilder(rootName: "edXML")
        let envelope = b.element("edXMLEnvelope", in: b.root)
        let headerNode = b.element("edXMLHeader", in: envelope)
        let message = b.element("MessageHeader", in: headerNode)
        organization(status.from, "From", in: message, b)
        responseFor(status.responseFor, in: message, b)
        if let staff = status.staffInfo { staffInfo(staff, in: message, b) }
        b.text("StatusCode", status.statusCode.rawValue, in: message)
        b.text("Description", status.description, in: message)
        b.text("Timestamp", status.timestamp, in: message)
        return (b, headerNode)
    }

    private static func organization(_ organization: Organization, _ name: String, in parent: xmlNodePtr, _ b: TreeBuilder) {
        let node = b.element(name, in: parent)
        b.text("OrganId", organization.organId, in: node)
        b.text("OrganizationInCharge", organization.organizationInCharge, in: node)
        b.text("OrganName", organization.organName, in: node)
        b.text("OrganAdd", organization.organAdd, in: node)
        b.text("Email", organization.email, in: node)
        b.text("Telephone", organization.telephone, in: node)
        b.text("Fax", organization.fax, in: node)
        b.text("Website", organization.website, in: node)
    }

    private static func responseFor(_ response: ResponseFor, in parent: xmlNodePtr, _ b: TreeBuilder) {
        let node = b.element("ResponseFor", in: parent)
        b.text("OrganId", response.organId, in: node)
        b.text("Code", response.code, in: node)
        b.text("PromulgationDate", response.promulgationDate, in: node)
        b.text("DocumentId", response.documentId, in: node)
    }

    private static func staffInfo(_ staff: StaffInfo, in parent: xmlNodePtr, _ b: TreeBuilder) {
        let node = b.element("StaffInfo", in: parent)
        b.text("Department", staff.department, in: node)
        b.text("Staff", staff.staff, in: node)
        b.text("Mobile", staff.mobile, in: node)
        b.text("Email", staff.email, in: node)
    }
}
