import Foundation
import XCTest
@testable import TokenDriver

/// vsmartcard's virtual reader in pcscd, where test cards connect themselves.
enum VirtualReader {
    static func reader(_ context: PCSCContext) throws -> String {
        try XCTUnwrap(try context.readers().first { $0.hasPrefix("Virtual PCD") }, "no virtual reader in pcscd")
    }

    /// Connects once a card is in the reader (a card process needs a moment to connect).
    static func connectWhenPresent(_ context: PCSCContext, seconds: Double = 10) throws -> PCSCCard {
        let name = try reader(context)
        let deadline = Date().addingTimeInterval(seconds)
        var lastError: PCSCError = .noSmartcard
        while Date() < deadline {
            let attempt = Result { () throws(PCSCError) -> PCSCCard in try context.connect(reader: name) }
            switch attempt {
            case .success(let card): return card
            case .failure(let error): lastError = error
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw lastError
    }

    /// Waits until pcscd sees the reader empty, so the next test starts from a clean reader.
    static func waitUntilEmpty(_ context: PCSCContext, seconds: Double = 5) throws -> Bool {
        let name = try reader(context)
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let attempt = Result { () throws(PCSCError) -> PCSCCard in try context.connect(reader: name) }
            if case .failure(let failure) = attempt, failure == .noSmartcard { return true }
            if case .success(let card) = attempt { card.disconnect() }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }
}
