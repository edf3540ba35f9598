/// A USB token model the box recognises, so an operator reads "SafeNet eToken 5110" rather than a
/// reader name. The known models are in `TokenModelTable.swift`; the udev rules are generated
/// from the same table.
package struct TokenModel: Sendable, Equatable {
    package enum PIVSupport: String, Sendable { case yes, no, unknown }

    let vendorID: UInt16
    let productID: UInt16
    package let name: String
    /// Whether the model usually carries a PIV application (then the PIV backend serves it).
    package let piv: PIVSupport
    /// Whether OpenSC has a driver for the model's card (epass2003, idprime, cardos, openpgp,
    /// sc-hsm …): then OpenSC's opensc-pkcs11.so serves it by default where PIV does not
    /// (`TokenModuleTable`), unless `[[tokens.module_for]]` names another module.
    package let opensc: Bool

    package init(vendorID: UInt16, productID: UInt16, name: String, piv: PIVSupport, opensc: Bool = false) {
        self.vendorID = vendorID
        self.productID = productID
        self.name = name
        self.piv = piv
        self.opensc = opensc
    }

    /// The known model with this USB id, if any.
    package static func matching(vendorID: UInt16, productID: UInt16) -> TokenModel? {
        byID[UInt32(vendorID) << 16 | UInt32(productID)]
    }

    private static let byID: [UInt32: TokenModel] = Dictionary(
        table.map { (UInt32($0.vendorID) << 16 | UInt32($0.productID), $0) }, uniquingKeysWith: { first, _ in first })
}
