/// What a PKCS#11 module serves, for `token list`: its tokens, their PIN flags and certificates,
/// each key named by the `pkcs11:` URI that signs with it. A module that cannot be loaded is a
/// report with its problem, never a failure of the whole listing (the other tokens still show).
package struct PKCS11ModuleReport: Sendable, Codable {
    package struct Token: Sendable, Codable {
        package var slot: UInt
        /// The slot's description: OpenSC names each slot after its PC/SC reader.
        package var slotDescription: String
        package var label: String
        package var manufacturer: String
        package var model: String
        package var serial: String
        package var loginRequired: Bool
        package var pinCountLow: Bool
        package var pinFinalTry: Bool
        package var pinLocked: Bool
        package var pinToBeChanged: Bool
        /// `slot` of each is the key's `pkcs11:` URI.
        package var certificates: [TokenReport.CertificateReport]
        package var problem: String?

        enum CodingKeys: String, CodingKey {
            case slot, slotDescription = "slot_description", label, manufacturer, model, serial, certificates, problem
            case loginRequired = "login_required", pinCountLow = "pin_count_low", pinFinalTry = "pin_final_try"
            case pinLocked = "pin_locked", pinToBeChanged = "pin_to_be_changed"
        }
    }

    package var module: String
    package var tokens: [Token]
    package var problem: String?

    /// Loads the module, lists its tokens and their certificates (public objects: no login).
    package static func scan(modulePath: String) -> PKCS11ModuleReport {
        var report = PKCS11ModuleReport(module: modulePath, tokens: [], problem: nil)
        let module: PKCS11Module
        let slots: [PKCS11Module.Slot]
        do {
            module = try PKCS11Module.load(path: modulePath)
            slots = try module.slots()
        } catch {
            report.problem = error.description
            return report
        }
        for slot in slots {
            guard let token = slot.token else { continue }
            var entry = Token(slot: UInt(slot.id), slotDescription: slot.description, label: token.label, manufacturer: token.manufacturer, model: token.model, serial: token.serial,
                                    loginRequired: token.loginRequired, pinCountLow: token.pinCountLow, pinFinalTry: token.pinFinalTry,
                                    pinLocked: token.pinLocked, pinToBeChanged: token.pinToBeChanged, certificates: [], problem: nil)
            guard token.initialized else {
                entry.problem = "Token chưa được khởi tạo / the token is not initialised"
                report.tokens.append(entry)
                continue
            }
            do {
                for certificate in try module.openSession(slot: slot.id).certificates() {
                    var uri = entry.uri
                    uri.id = certificate.id
                    do { entry.certificates.append(try TokenInventory.describe(certificate.der, place: uri.description)) } catch {
                        entry.problem = "Chứng thư không hợp lệ / invalid certificate \(uri): \(error)"
                    }
                }
            } catch {
                entry.problem = error.description
            }
            report.tokens.append(entry)
        }
        return report
    }
}

extension PKCS11ModuleReport.Token {
    /// The token's `pkcs11:` URI (label and serial): how the console and `sign-queue` name it.
    package var uri: PKCS11URI {
        var uri = PKCS11URI(token: label)
        uri.serial = serial
        return uri
    }

    /// What the PIN flags say as PIV's count: 1 at the final try, 0 when locked, nil otherwise
    /// (PKCS#11 gives no count: COUNT_LOW says only that some tries are gone).
    package var pinTriesLeft: Int? { pinLocked ? 0 : pinFinalTry ? 1 : nil }
}
