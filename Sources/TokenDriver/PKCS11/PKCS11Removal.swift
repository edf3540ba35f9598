import CPKCS11
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension PKCS11Module {
    /// A failed call named for what happened when the token is gone: a module may answer a token
    /// pulled out mid-operation with a vague code and still call it present — OpenSC 0.23 gave
    /// CKR_GENERAL_ERROR from C_Sign when the virtual card left, and then CKR_OK from
    /// C_GetSlotInfo and C_GetTokenInfo (OpenSCPKCS11Tests) — so the slot is asked, and where it
    /// stands for a PC/SC reader (OpenSC names its slots after them), pcscd is asked too, waiting
    /// up to two seconds for its event (pcscd learns of a removal on its own timer). The original
    /// failure stands when the token is still there.
    func named(_ error: PKCS11Error, slot: CK_SLOT_ID) -> PKCS11Error {
        guard case .call = error else { return error }
        var info = CK_SLOT_INFO()
        switch functions.C_GetSlotInfo?(slot, &info) {
        case PKCS11.CKR_OK? where info.flags & PKCS11.CKF_TOKEN_PRESENT == 0: return .deviceRemoved
        case PKCS11.CKR_DEVICE_REMOVED?, PKCS11.CKR_TOKEN_NOT_PRESENT?: return .deviceRemoved
        case PKCS11.CKR_OK?: return Self.readerEmptied(Self.text(info.slotDescription), seconds: 2) ? .deviceRemoved : error
        default: return error
        }
    }

    /// Whether pcscd's reader `name` is, or within `seconds` becomes, empty (false when pcscd has
    /// no such reader). Waits on pcscd's events, never polls.
    static func readerEmptied(_ name: String, seconds: Double) -> Bool {
        guard let context = try? PCSCContext(), (try? context.readers())?.contains(name) == true else { return false }
        var states = [PCSCContext.ReaderState(reader: name)]
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0, (try? context.waitForChange(&states, timeoutMilliseconds: UInt32(left * 1000))) != nil else { return false }
            if states[0].eventState & PCSCContext.ReaderState.present == 0 { return true }
            states[0].knownState = states[0].eventState & ~PCSCContext.ReaderState.changed
        }
    }
}
