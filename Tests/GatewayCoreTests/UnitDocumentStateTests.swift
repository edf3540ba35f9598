import DocumentModel
import XCTest
@testable import GatewayCore

/// The outbound lifecycle: received → awaiting_signature → signed → queued → sending →
/// delivered, with side exits rejected and quarantined.
final class UnitDocumentStateTests: XCTestCase {
    /// The lifecycle, written out independently of the code under test.
    private let lifecycle: [DocumentState: Set<DocumentState>] = [
        .received: [.awaitingSignature, .signed, .rejected, .quarantined],
        .awaitingSignature: [.signed, .rejected, .quarantined],
        .signed: [.queued, .rejected, .quarantined],
        .queued: [.sending, .rejected, .quarantined],
        .sending: [.delivered, .queued, .rejected, .quarantined],
        .delivered: [.quarantined],
        .rejected: [.quarantined],
        .quarantined: [],
    ]

    func testRawValuesAreTheStoredNames() {
        XCTAssertEqual(DocumentState.allCases.map(\.rawValue),
                       ["received", "awaiting_signature", "signed", "queued", "sending", "delivered", "rejected", "quarantined"])
        XCTAssertEqual(DocumentState(rawValue: "awaiting_signature"), .awaitingSignature)
        XCTAssertNil(DocumentState(rawValue: "awaitingSignature"))
    }

    func testEveryAllowedTransition() {
        for (from, allowed) in lifecycle {
            XCTAssertEqual(from.allowedNextStates, allowed, "from \(from.rawValue)")
            for to in allowed {
                XCTAssertTrue(from.canMove(to: to), "\(from.rawValue) → \(to.rawValue) must be allowed")
            }
        }
        XCTAssertEqual(lifecycle.count, DocumentState.allCases.count)
    }

    func testEveryOtherTransitionIsForbidden() {
        var forbidden = 0
        for from in DocumentState.allCases {
            for to in DocumentState.allCases where !(lifecycle[from]?.contains(to) ?? false) {
                XCTAssertFalse(from.canMove(to: to), "\(from.rawValue) → \(to.rawValue) must be forbidden")
                forbidden += 1
            }
        }
        XCTAssertEqual(forbidden, 64 - 19)
    }

    func testSampleOfForbiddenTransitions() {
        XCTAssertFalse(DocumentState.delivered.canMove(to: .queued))
        XCTAssertFalse(DocumentState.delivered.canMove(to: .sending))
        XCTAssertFalse(DocumentState.received.canMove(to: .delivered))
        XCTAssertFalse(DocumentState.received.canMove(to: .queued))
        XCTAssertFalse(DocumentState.awaitingSignature.canMove(to: .queued))
        XCTAssertFalse(DocumentState.signed.canMove(to: .sending))
        XCTAssertFalse(DocumentState.rejected.canMove(to: .queued))
        XCTAssertFalse(DocumentState.queued.canMove(to: .delivered))
        for state in DocumentState.allCases {
            XCTAssertFalse(state.canMove(to: state), "\(state.rawValue) → itself")
            XCTAssertFalse(DocumentState.quarantined.canMove(to: state), "quarantined → \(state.rawValue)")
        }
        XCTAssertTrue(DocumentState.quarantined.allowedNextStates.isEmpty)
    }

    func testQuarantineIsReachableFromEveryOtherState() {
        for state in DocumentState.allCases where state != .quarantined {
            XCTAssertTrue(state.canMove(to: .quarantined), state.rawValue)
        }
    }

    func testTerminalStates() {
        XCTAssertEqual(Set(DocumentState.allCases.filter(\.isTerminal)), [.delivered, .rejected, .quarantined])
    }

    func testTransientStates() {
        XCTAssertEqual(Set(DocumentState.allCases.filter(\.isTransient)), [.received, .sending])
    }

    func testStateAfterIntake() {
        XCTAssertEqual(DocumentState.afterIntake(alreadySigned: true), .signed)
        XCTAssertEqual(DocumentState.afterIntake(alreadySigned: false), .awaitingSignature)
        XCTAssertTrue(DocumentState.received.canMove(to: .afterIntake(alreadySigned: true)))
        XCTAssertTrue(DocumentState.received.canMove(to: .afterIntake(alreadySigned: false)))
    }

    func testIllegalTransitionDescription() {
        XCTAssertEqual(IllegalTransition(from: .delivered, to: .queued).description, "illegal document transition delivered → queued")
    }

    func testPriorityOrderAndNames() {
        XCTAssertEqual(Priority.allCases.map(\.rawValue), [0, 1, 2, 3, 4])
        XCTAssertEqual(Priority.allCases.sorted(), Priority.allCases)
        XCTAssertLessThan(Priority.urgent, Priority.flash)
        XCTAssertEqual(Priority.flash.vietnameseName, "Hỏa tốc")
        XCTAssertEqual(Priority.normal.vietnameseName, "Thường")
        XCTAssertNil(Priority(rawValue: 5))
    }
}
