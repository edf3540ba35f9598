// What a new account must be, for the console's forms and `gatewayd user` alike.
import Foundation
import GatewayCore
import SigningPolicy

package struct AccountRules: Sendable {
    /// The identities (`CCCD:…`) of `[[signing.leaders]]`: a lãnh đạo account is bound to one.
    package var leaderIdentities: [String]

    package init(leaderIdentities: [String]) { self.leaderIdentities = leaderIdentities }

    package init(_ configuration: GatewayConfiguration) {
        leaderIdentities = configuration.signing.leaders.map(\.identity.description)
    }

    /// The account to store, or the first thing wrong with the request. `passwordAgain` is the
    /// form's second field (nil from the command line, which asks twice itself).
    package func newUser(login: String, displayName: String, role: ConsoleRole, identity: String?, password: String,
                         passwordAgain: String?, existing: [ConsoleUser]) -> Result<(user: ConsoleUser, password: String), AccountProblem> {
        let login = login.trimmingCharacters(in: .whitespaces)
        let displayName = displayName.trimmingCharacters(in: .whitespacesAndNewlines)
        if let problem = check(login: login) { return .failure(problem) }
        if let problem = check(displayName: displayName) { return .failure(problem) }
        if let problem = check(password: password, again: passwordAgain) { return .failure(problem) }
        if existing.contains(where: { $0.login == login }) { return .failure(.init(.userExists)) }
        var bound: String?
        if role == .lanhDao {
            guard let text = identity?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return .failure(.init(.identityRequired)) }
            guard let parsed = SubjectIdentifier(text), leaderIdentities.contains(parsed.description) else {
                return .failure(.init(.identityNotALeader))
            }
            if existing.contains(where: { $0.identity == parsed.description && !$0.disabled }) { return .failure(.init(.identityTaken)) }
            bound = parsed.description
        }
        return .success((ConsoleUser(login: login, displayName: displayName, role: role, identity: bound, passwordHash: ""), password))
    }

    package func check(login: String) -> AccountProblem? {
        let allowed = login.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0) }
        return (2...32).contains(login.count) && allowed ? nil : .init(.invalidLogin)
    }

    package func check(displayName: String) -> AccountProblem? {
        let clean = !displayName.unicodeScalars.contains { $0.properties.generalCategory == .control }
        return (1...100).contains(displayName.count) && clean ? nil : .init(.invalidDisplayName)
    }

    package func check(password: String, again: String?) -> AccountProblem? {
        if password.count < Passwords.minimumLength { return .init(.passwordTooShort) }
        if let again, again != password { return .init(.passwordsDiffer) }
        return nil
    }
}

/// Why an account was refused, in both languages.
package struct AccountProblem: Error, Sendable, Equatable, CustomStringConvertible {
    package let phrase: Phrase
    init(_ phrase: Phrase) { self.phrase = phrase }
    package var description: String { phrase.text(in: .vi) + " / " + phrase.text(in: .en) }
}
