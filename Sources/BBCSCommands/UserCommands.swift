import ArgumentParser
import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Register, list, disable and enable users (changes: administrators).",
        subcommands: [Add.self, List.self, Disable.self, Enable.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a Unix account as a bbcs user.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Unix login.", valueName: "login")) var login: String
        @Option(help: ArgumentHelp("Full name (default: from the account).", valueName: "name")) var name: String?
        @Option(help: ArgumentHelp("E-mail address for reminders.", valueName: "address")) var email: String?

        func run() throws {
            try connection.run(UserAddRequest(login: login, name: name, email: email)) { u in
                print("added \(u.login) (\(u.name))" + (u.email.map { " <\($0)>" } ?? "") + "; grant posts with: bbcsctl post grant \(u.login) POST")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users and the posts they hold.")
        @OptionGroup var connection: Connection

        func run() throws {
            try connection.run(UserListRequest()) { r in
                var table = Table("Login", "State", "Name", "Posts")
                for u in r.users {
                    table.add(u.login, u.disabled ? "disabled" : "active", u.name, u.posts.map(describeHolding).joined(separator: "; "))
                }
                print(table.render())
            }
        }
    }

    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a user: kept for history, with no rights.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Login.", valueName: "login")) var login: String

        func run() throws {
            try connection.run(UserDisableRequest(login: login)) { print("\($0.login) is disabled") }
        }
    }

    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give a disabled user their rights back.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Login.", valueName: "login")) var login: String

        func run() throws {
            try connection.run(UserEnableRequest(login: login)) { print("\($0.login) is active") }
        }
    }
}
