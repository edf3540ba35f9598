// `[tokens]` and `[[tokens.module_for]]` (docs/configuration.md, docs/tokens.md): which PKCS#11
// module serves which token, read and checked for the configuration loader. Plain paths and
// texts here: GatewayCore never loads a module (SessionTokens and gatewayd do, through TokenDriver).
import TOMLKit

extension GatewayConfiguration {
    package struct Tokens: Sendable, Equatable {
        /// Debian's opensc-pkcs11 package puts OpenSC's module here (amd64; `opensc_module` elsewhere).
        package static let defaultOpenSCModule = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"

        /// Modules without a reader (SoftHSM2, a network HSM): their slots are listed at start
        /// and on demand, each token shown and usable beside the tokens in readers.
        package var modules: [String] = []
        /// What serves a card in a reader that OpenSC supports and PIV does not (ePass2003, IDPrime).
        package var openSCModule: String = Tokens.defaultOpenSCModule
        /// A vendor's module for one token model, by ATR or USB id: wins over PIV and OpenSC.
        package var moduleFor: [ModuleChoice] = []

        package init(modules: [String] = [], openSCModule: String = Tokens.defaultOpenSCModule, moduleFor: [ModuleChoice] = []) {
            (self.modules, self.openSCModule, self.moduleFor) = (modules, openSCModule, moduleFor)
        }
    }

    /// `[[tokens.module_for]]`: the token whose ATR starts with `atr` (hex, as `token list`
    /// shows it) and/or whose USB id is `usb` (`096e:0807`) is served by `module`.
    package struct ModuleChoice: Sendable, Equatable {
        package var atr: String?
        package var usb: String?
        package var name: String?
        package var module: String

        package init(atr: String? = nil, usb: String? = nil, name: String? = nil, module: String) {
            (self.atr, self.usb, self.name, self.module) = (atr, usb, name, module)
        }
    }
}

extension ConfigurationLoader.Reader {
    mutating func readTokens(_ table: TOMLTable, into tokens: inout GatewayConfiguration.Tokens) {
        let moduleHint = "the module's absolute path, e.g. \"/usr/lib/softhsm/libsofthsm2.so\" or a vendor's module under /var/lib/gatewayd/modules"
        if let value = table["modules"] {
            if let array = value.array {
                for (index, item) in array.enumerated() {
                    if let path = item.string, path.hasPrefix("/") { tokens.modules.append(path) } else {
                        issue("tokens.modules", "mục \(index + 1) phải là đường dẫn tuyệt đối / item \(index + 1) must be an absolute path: \(item.tomlValue.debugDescription)",
                              hint: moduleHint)
                    }
                }
            } else {
                issue("tokens.modules", "phải là danh sách mô-đun PKCS#11 / must be a list of PKCS#11 modules", hint: "modules = [\"/usr/lib/softhsm/libsofthsm2.so\"]")
            }
        }
        if let path = absolutePath(table, "tokens", "opensc_module", example: GatewayConfiguration.Tokens.defaultOpenSCModule) { tokens.openSCModule = path }
        guard let value = table["module_for"] else { return }
        guard let array = value.array, array.allSatisfy({ $0.table != nil }) else {
            issue("tokens.module_for", "mỗi mục là một bảng [[tokens.module_for]] / each entry is a table [[tokens.module_for]]",
                  hint: "write [[tokens.module_for]] (two brackets) above each token model's atr or usb and module")
            return
        }
        for (index, item) in array.enumerated() {
            let entry = item.table!
            let label = "tokens.module_for[\(index + 1)]"
            checkKeys(entry, section: "tokens.module_for", label: label)
            var choice = GatewayConfiguration.ModuleChoice(module: "")
            if let atr = string(entry, label, "atr") {
                let digits = atr.filter { !$0.isWhitespace && $0 != ":" }.uppercased()
                if !digits.isEmpty, digits.count.isMultiple(of: 2), digits.allSatisfy(\.isHexDigit) { choice.atr = digits } else {
                    issue("\(label).atr", "\"\(atr)\" không phải ATR dạng hex / is not an ATR in hex",
                          hint: "the ATR (or its first bytes) as `gatewayd token list` shows it, e.g. atr = \"3B9F9681B1FE451F07\"")
                }
            }
            if let usb = string(entry, label, "usb") {
                let parts = usb.lowercased().split(separator: ":")
                if parts.count == 2, parts.allSatisfy({ $0.count == 4 && $0.allSatisfy(\.isHexDigit) }) { choice.usb = usb.lowercased() } else {
                    issue("\(label).usb", "\"\(usb)\" không phải mã USB VID:PID / is not a USB VID:PID", hint: "four hex digits each, e.g. usb = \"096e:0807\"")
                }
            }
            if entry["atr"] == nil, entry["usb"] == nil {
                issue(label, "cần atr hoặc usb để biết token nào / needs atr or usb to say which token", hint: "e.g. usb = \"096e:0807\" (from `gatewayd token list`)")
            }
            choice.name = string(entry, label, "name")
            if let module = requiredText(entry, label, "module", hint: moduleHint) {
                if module.hasPrefix("/") { choice.module = module } else {
                    issue("\(label).module", "phải là đường dẫn tuyệt đối / must be an absolute path, found \"\(module)\"", hint: moduleHint)
                }
            }
            if !choice.module.isEmpty, choice.atr != nil || choice.usb != nil { tokens.moduleFor.append(choice) }
        }
    }
}
