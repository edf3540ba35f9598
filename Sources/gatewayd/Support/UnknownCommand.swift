// Finds a command name that names no command, before ArgumentParser reads the arguments.
import ArgumentParser

struct UnknownCommand: Equatable {
    /// The command path that was recognised, e.g. ["gatewayd", "queue"].
    var path: [String]
    var name: String

    var message: String {
        let parent = path.joined(separator: " ")
        return "\(parent): không có lệnh \"\(name)\" / unknown command \"\(name)\" (see `\(parent) --help`)"
    }

    /// Walks the subcommand names at the front of `arguments`: the first that is not a command of
    /// its parent is unknown. Options end the walk (the commands themselves check those), and so
    /// do a command without subcommands (its arguments follow), one with a default subcommand
    /// (the word may be that subcommand's argument) and ArgumentParser's own `help`.
    static func find(in arguments: [String], root: any ParsableCommand.Type) -> UnknownCommand? {
        var command = root
        var path = [root._commandName]
        for argument in arguments {
            if argument.hasPrefix("-") || argument == "help" { return nil }
            let configuration = command.configuration
            guard !configuration.subcommands.isEmpty, configuration.defaultSubcommand == nil else { return nil }
            guard let next = configuration.subcommands.first(where: { $0._commandName == argument || $0.configuration.aliases.contains(argument) }) else {
                return UnknownCommand(path: path, name: argument)
            }
            command = next
            path.append(next._commandName)
        }
        return nil
    }
}
