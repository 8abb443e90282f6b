import ArgumentParser
import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

struct Posts: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List posts with what they own.")
    @OptionGroup var connection: Connection

    func run() throws {
        try connection.run(PostListRequest(), render: printPosts)
    }
}

func printPosts(_ result: PostListRequest.Response) {
    var table = Table("Indicators", "Tasks", "Post", "Head of")
    for p in result.posts {
        table.add("\(p.indicatorCount)", "\(p.taskCount)", p.name, p.headOf.joined(separator: "; "))
    }
    print(table.render())
}

/// "Licensing Manager (2026-01-01 to 2026-03-31, ended)"
func describeHolding(_ h: PostHolding) -> String {
    var text = h.post
    var notes: [String] = []
    if let until = h.until { notes.append("\(h.from) to \(until)") } else { notes.append("from \(h.from)") }
    if h.revokedBy != nil { notes.append("revoked") } else if !h.current { notes.append("not in force today") }
    text += " (" + notes.joined(separator: ", ") + ")"
    return text
}

struct PostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "post", abstract: "List and create posts; grant and revoke them (changes: administrators).",
        subcommands: [List.self, Add.self, Grant.self, Revoke.self, Holders.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List posts with what they own (as `bbcsctl posts`).")
        @OptionGroup var connection: Connection
        func run() throws { try connection.run(PostListRequest(), render: printPosts) }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a post.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Post name, e.g. \"Licensing Manager\".", valueName: "name")) var name: String

        func run() throws {
            try connection.run(PostAddRequest(name: name)) { print("added post \"\($0.name)\"") }
        }
    }

    struct Grant: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let a user hold a post, optionally for a time.",
            discussion: "Cover during leave: give --until and the holding ends by itself after that day.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Login.", valueName: "login")) var login: String
        @Argument(help: ArgumentHelp("Post.", valueName: "post")) var post: String
        @Option(help: ArgumentHelp("First day held, YYYY-MM-DD (default today).", valueName: "date")) var from: CalendarDate?
        @Option(help: ArgumentHelp("Last day held, YYYY-MM-DD (default open-ended).", valueName: "date")) var until: CalendarDate?

        func run() throws {
            try connection.run(PostGrantRequest(login: login, post: post, from: from, until: until)) { h in
                print("\(h.login) holds \(describeHolding(h))")
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a user's holdings of a post.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Login.", valueName: "login")) var login: String
        @Argument(help: ArgumentHelp("Post.", valueName: "post")) var post: String

        func run() throws {
            try connection.run(PostRevokeRequest(login: login, post: post)) { r in
                for h in r.revoked { print("\(h.login) no longer holds \(h.post)") }
            }
        }
    }

    struct Holders: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Who holds a post today (with --all, ever).")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Post.", valueName: "post")) var post: String
        @Flag(help: "Include ended, future and revoked holdings.") var all = false

        func run() throws {
            try connection.run(PostHoldersRequest(post: post, all: all ? true : nil)) { r in
                guard !r.holders.isEmpty else { return print("nobody holds \"\(r.post)\"" + (all ? "" : " today")) }
                var table = Table("Login", "From", "Until", "State", "Granted by")
                for h in r.holders {
                    table.add(h.login, h.from.description, h.until?.description ?? "-",
                              h.revokedBy != nil ? "revoked" : h.current ? "current" : "not in force", h.grantedBy)
                }
                print(table.render())
            }
        }
    }
}
