import ArgumentParser
import BBCSClient
import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

extension Period: ExpressibleByArgument {
    /// "2025/26", "2025/26 Q2", and for shells "2025/26-Q2" or "2025/26Q2".
    public init?(argument: String) {
        var text = argument.trimmingCharacters(in: .whitespaces)
        if text.count > 7, !text.contains(" ") {
            let year = text.prefix(7)
            let rest = text.dropFirst(7).drop { $0 == "-" || $0 == ":" || $0 == "_" }
            text = "\(year) \(rest)"
        }
        self.init(text)
    }
}

/// A figure or target value as typed: a number, optionally with "%" (for percentages).
struct Amount: ExpressibleByArgument {
    let value: Double
    init?(argument: String) {
        let text = argument.hasSuffix("%") ? String(argument.dropLast()) : argument
        guard let value = Double(text), value.isFinite else { return nil }
        self.value = value
    }
    static var defaultCompletionKind: CompletionKind { .default }
}

private func printFigure(_ result: FigureResult, unit percent: Bool = false) {
    let s = result.status
    guard let f = s.figure else { return }
    var line = "\(result.indicator) \(s.period): \(formatValue(f.value, percent: percent)) (revision \(f.revision)), \(s.rag.rawValue)"
    if let target = s.target { line += " against target \(formatValue(target, percent: percent))" }
    print(line)
    var details: [String] = []
    if let t = s.sincePrevious { details.append("\(t.rawValue) since the previous period") }
    if let t = s.sinceYearEarlier { details.append("\(t.rawValue) since a year earlier") }
    if f.late { details.append("late") }
    if let by = f.validatedBy { details.append("validated by \(by)") }
    if !details.isEmpty { print("  " + details.joined(separator: "; ")) }
}

struct FigureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "figure", abstract: "Submit, correct, validate and read an indicator's figures.",
        discussion: """
            Periods are "2025/26" for annual indicators and "2025/26 Q2" for quarterly ones (2025/26-Q2 also works).
            A figure is never overwritten: a correction is a new revision with a reason.
            """,
        subcommands: [Submit.self, Correct.self, History.self, Validate.self])

    struct Submit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Submit the first figure for a period of an indicator your post owns.",
            discussion: "A note is required when the figure is red against its target. A second submission is refused: use `figure correct`.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Indicator code, e.g. ComS_011.", valueName: "code")) var code: String
        @Argument(help: ArgumentHelp("Period, e.g. \"2025/26 Q2\".", valueName: "period")) var period: Period
        @Argument(help: ArgumentHelp("The value: a whole number for counts, a number for percentages.", valueName: "value")) var value: Amount
        @Option(help: ArgumentHelp("Commentary; required when the figure is red.", valueName: "text")) var note: String?

        func run() throws {
            try connection.run(FigureSubmitRequest(code: code, period: period, value: value.value, note: note)) { printFigure($0) }
        }
    }

    struct Correct: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Correct a period's figure: a new revision with a reason; the old one stays.",
            discussion: "Corrects the current revision unless --revision names the one you read; if someone changed it since, the correction is refused.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Indicator code.", valueName: "code")) var code: String
        @Argument(help: ArgumentHelp("Period.", valueName: "period")) var period: Period
        @Argument(help: ArgumentHelp("The corrected value.", valueName: "value")) var value: Amount
        @Option(help: ArgumentHelp("Why the figure changed (required).", valueName: "text")) var reason: String
        @Option(help: ArgumentHelp("New commentary (default: keep the previous).", valueName: "text")) var note: String?
        @Option(help: ArgumentHelp("The revision being corrected (default: the current one).", valueName: "n")) var revision: Int?

        func run() throws {
            let revision = try self.revision ?? connection.session { client in
                let history = try client.call(FigureHistoryRequest(code: code, period: period))
                guard let current = history.revisions.last else {
                    FileHandle.standardError.write(Data("bbcsctl: \(code) \(period) has no figure to correct; use `bbcsctl figure submit`\n".utf8))
                    throw ExitCode(Exit.conflict)
                }
                return current.revision
            }
            let request = FigureCorrectRequest(code: code, period: period, value: value.value, reason: reason, revision: revision, note: note)
            try connection.run(request) { printFigure($0) }
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every revision of an indicator's figures, with who, when and why.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Indicator code.", valueName: "code")) var code: String
        @Option(help: ArgumentHelp("Only this period.", valueName: "period")) var period: Period?

        func run() throws {
            try connection.run(FigureHistoryRequest(code: code, period: period)) { result in
                guard !result.revisions.isEmpty else { return print("\(result.indicator): no figures" + (period.map { " for \($0)" } ?? "")) }
                var table = Table("Period", "Rev", "Value", "By", "At", "Flags", "Reason / note")
                for f in result.revisions {
                    let flags = [f.late ? "late" : nil, f.validatedBy.map { "validated by \($0)" }].compactMap { $0 }
                    table.add(f.period.description, "\(f.revision)", FigureRules.format(f.value), f.submittedBy, f.submittedAt,
                              flags.joined(separator: ", "), [f.reason, f.note].compactMap { $0 }.joined(separator: " / "))
                }
                print(table.render())
            }
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark a period's current revision checked (administrators); a later correction clears the mark.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Indicator code.", valueName: "code")) var code: String
        @Argument(help: ArgumentHelp("Period.", valueName: "period")) var period: Period
        @Option(help: ArgumentHelp("The revision you checked; refused if it is no longer current.", valueName: "n")) var revision: Int?

        func run() throws {
            try connection.run(FigureValidateRequest(code: code, period: period, revision: revision)) { printFigure($0) }
        }
    }
}

struct Due: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Figures your posts owe for the current and past periods, with due dates.")
    @OptionGroup var connection: Connection
    @Option(help: ArgumentHelp("This post's instead of yours.", valueName: "post")) var post: String?
    @Flag(help: "Every post's.") var all = false

    func run() throws {
        try connection.run(FigureDueRequest(post: post, all: all ? true : nil)) { result in
            guard !result.figures.isEmpty else {
                return print(result.posts.isEmpty ? "you hold no post that owns indicators" : "nothing due for \(result.posts.joined(separator: ", "))")
            }
            var table = Table("Due", "State", "Code", "Period", "Owner", "Title")
            for f in result.figures {
                table.add(f.dueDate.description, f.overdue ? "OVERDUE" : f.open ? "period open" : "due", f.indicator, f.period.description,
                          f.ownerPost, f.title)
            }
            print(table.render())
            print("\(result.figures.count) figures owed, \(result.figures.filter(\.overdue).count) overdue")
        }
    }
}

struct TargetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "target", abstract: "Set and read indicators' targets and tolerances.", subcommands: [SetTarget.self, History.self])

    struct SetTarget: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Set a period's target, and optionally the tolerance (administrators).",
            discussion: "The tolerance is the amber band as a percentage of target (default 5). Every change keeps the old value and the reason.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Indicator code.", valueName: "code")) var code: String
        @Argument(help: ArgumentHelp("A year of the plan, or a quarter of a quarterly indicator.", valueName: "period")) var period: Period
        @Argument(help: ArgumentHelp("The target.", valueName: "value")) var value: Amount
        @Option(help: ArgumentHelp("Amber band, percent of target (0 to 100).", valueName: "pct")) var tolerance: Amount?
        @Option(help: ArgumentHelp("Why the target changed (required).", valueName: "text")) var reason: String

        func run() throws {
            let request = TargetSetRequest(code: code, period: period, value: value.value, tolerance: tolerance?.value, reason: reason)
            try connection.run(request) { r in
                let c = r.change
                print("\(r.indicator) \(c.period) target \(formatValue(c.oldValue, percent: false)) → \(FigureRules.format(c.newValue))"
                      + (c.newTolerance != c.oldTolerance ? ", tolerance \(formatValue(c.oldTolerance, percent: true)) → \(formatValue(c.newTolerance, percent: true))" : ""))
            }
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every change of an indicator's targets and tolerance.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Indicator code.", valueName: "code")) var code: String

        func run() throws {
            try connection.run(TargetHistoryRequest(code: code)) { r in
                guard !r.changes.isEmpty else { return print("\(r.indicator): targets as the plan set them; no changes") }
                var table = Table("At", "By", "Period", "Target", "Tolerance", "Reason")
                for c in r.changes {
                    table.add(c.changedAt, c.changedBy, c.period.description,
                              "\(formatValue(c.oldValue, percent: false)) → \(FigureRules.format(c.newValue))",
                              "\(formatValue(c.oldTolerance, percent: true)) → \(formatValue(c.newTolerance, percent: true))", c.reason)
                }
                print(table.render())
            }
        }
    }
}

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

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read the audit trail, newest first (administrators): every change and every refused attempt.")
    @OptionGroup var connection: Connection
    @Option(help: ArgumentHelp("An indicator code, login or post.", valueName: "object")) var object: String?
    @Option(help: ArgumentHelp("Who acted (login).", valueName: "login")) var user: String?
    @Option(help: ArgumentHelp("On or after this day, YYYY-MM-DD.", valueName: "date")) var since: CalendarDate?
    @Option(help: ArgumentHelp("Most rows (default 100).", valueName: "n")) var limit: Int?

    func run() throws {
        try connection.run(AuditListRequest(object: object, user: user, since: since, limit: limit)) { r in
            var table = Table("At", "Who", "Method", "Object", "Outcome", "What")
            for e in r.entries {
                table.add(e.at, "\(e.login) (uid \(e.uid))", e.method, e.object ?? "-", e.outcome.rawValue, e.message ?? "")
            }
            print(table.render())
            print("\(r.entries.count) entries")
        }
    }
}
