import Dispatch
import GatewayCore
import TokenDriver

extension PIVSigningTokens {
    /// CHANGE REFERENCE DATA on the card in `reader` (`PIVPINChanger`: the tries read first, the
    /// final try only when confirmed). `key` names a slot, which a PIN change does not need: the
    /// card has one PIN for every slot.
    package func changePIN(reader: String?, key: String?, current: SessionPIN, new: SessionPIN, confirmLastTry: Bool) async throws(SessionTokenFailure) {
        // PC/SC calls block: on a queue of their own, as `open` does.
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, SessionTokenFailure>, Never>) in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { () throws(SessionTokenFailure) in
                    try changePINNow(reader: reader, current: current, new: new, confirmLastTry: confirmLastTry)
                })
            }
        }
        try result.get()
    }

    func changePINNow(reader: String?, current: SessionPIN, new: SessionPIN, confirmLastTry: Bool) throws(SessionTokenFailure) {
        let old = try Self.pin(from: current), replacement = try Self.pin(from: new)
        let name: String
        if let reader { name = reader } else { name = try onlyPIVReader() }
        let connect = self.connect
        do {
            try PIVPINChanger(reader: name, connect: { try connect(name) }).changePIN(old: old, new: replacement, force: confirmLastTry)
        } catch {
            throw Self.openingFailure(error, reader: name, slot: nil)
        }
    }
}
