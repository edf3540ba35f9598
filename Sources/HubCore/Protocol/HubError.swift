import DocumentModel

/// Every refusal the hub answers, with its machine code, its HTTP status and its text in
/// Vietnamese and English (docs/protocol.md, "Errors").
package struct HubError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The codes are the wire's (DocumentModel's `RelayErrorCode`), so hub and box share them.
    package typealias Code = RelayErrorCode

    package let code: Code
    package let vi: String
    package let en: String

    package init(_ code: Code, _ vi: String, _ en: String) {
        self.code = code
        self.vi = vi
        self.en = en
    }

    package var description: String { "\(code.rawValue): \(vi) / \(en)" }

    static func notFound(_ what: String) -> HubError {
        HubError(.notFound, "Không tìm thấy \(what)", "Not found: \(what)")
    }

    static func forbiddenRoute() -> HubError {
        HubError(.forbidden, "Chứng thư số này không được dùng chức năng này", "This certificate may not use this route")
    }
}
