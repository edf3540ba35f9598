import Dispatch
import GatewayCore
import TokenDriver

extension BoxSigningTokens {
    /// The PIN change routed as `open` routes a session: a `pkcs11:` URI or a card a module serves
    /// goes to `PKCS11PINChanger` (C_SetPIN), any other card to PIV's CHANGE REFERENCE DATA.
    package func changePIN(reader: String?, key: String?, current: SessionPIN, new: SessionPIN, confirmLastTry: Bool) async throws(SessionTokenFailure) {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, SessionTokenFailure>, Never>) in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { () throws(SessionTokenFailure) in
                    try changePINNow(reader: reader, key: key, current: current, new: new, confirmLastTry: confirmLastTry)
                })
            }
        }
        try result.get()
    }

    func changePINNow(reader: String?, key: String?, current: SessionPIN, new: SessionPIN, confirmLastTry: Bool) throws(SessionTokenFailure) {
        let named = try Self.pkcs11URIs(reader: reader, key: key)
        if !named.isEmpty {
            let uri = Self.merged(named)
            try checkConfigured(uri)
            return try changePKCS11PIN(uri: uri, modules: uri.modulePath.map { [$0] } ?? modules, current: current, new: new, confirmLastTry: confirmLastTry)
        }
        if let reader {
            var module: String?
            if case .pkcs11(let configured, _)? = configuredChoice(reader: reader) {
                module = configured
            } else if let report = try? TokenInventory.report(reader: reader), !report.piv,
                      case .pkcs11(let serving, _) = table.serving(atr: report.atr, usb: report.usb?.idText, piv: report.piv) {
                module = serving
            }
            if let module {
                // OpenSC (and most modules) name each slot after its reader.
                var uri = PKCS11URI()
                do { uri.slotID = try PKCS11Module.load(path: module).slots().first { $0.description == reader }.map { UInt($0.id) } } catch {
                    throw PKCS11SigningTokens.failure(error, opening: true)
                }
                guard uri.slotID != nil else { throw .noToken("\(module) không thấy token trong / sees no token in \(reader)") }
                return try changePKCS11PIN(uri: uri, modules: [module], current: current, new: new, confirmLastTry: confirmLastTry)
            }
        }
        try piv.changePINNow(reader: reader, current: current, new: new, confirmLastTry: confirmLastTry)
    }

    /// The one token `uri` names among `modules`, its PIN changed. The PINs go as typed: the
    /// token's own limits judge the new one (`PKCS11PINChanger`), not PIV's 6–8 digits.
    func changePKCS11PIN(uri: PKCS11URI, modules: [String], current: SessionPIN, new: SessionPIN, confirmLastTry: Bool) throws(SessionTokenFailure) {
        let old = try Self.entered(current), replacement = try Self.entered(new)
        var changers: [PKCS11PINChanger] = []
        var problems: [String] = []
        for path in modules {
            do { changers.append(try PKCS11PINChanger(module: try PKCS11Module.load(path: path), uri: uri)) } catch { problems.append(error.description) }
        }
        guard changers.count == 1 else {
            throw .noToken(changers.isEmpty ? "không token nào khớp / no token answers \(uri): " + problems.joined(separator: "; ")
                                             : "có \(changers.count) token khớp, hãy chọn một / \(changers.count) tokens answer \(uri): name one")
        }
        do { try changers[0].changePIN(old: old, new: replacement, force: confirmLastTry) } catch {
            throw PKCS11SigningTokens.failure(error)
        }
    }

    /// The session's PIN bytes copied, as they are, into an `EnteredPIN` (no String between).
    static func entered(_ pin: SessionPIN) throws(SessionTokenFailure) -> EnteredPIN {
        guard let entered = pin.withBytes({ $0.map(EnteredPIN.init(bytes:)) }) else {
            throw .token("Phiên ký đã kết thúc / the signing session has ended")
        }
        return entered
    }
}
