import ArgumentParser
import BBCSClient
import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

/// Options every command takes.
struct Connection: ParsableArguments {
    @Option(help: ArgumentHelp("The daemon's socket (default: $BBCS_SOCKET, else /run/bbcs/bbcsd.sock).", valueName: "path"))
    var socket: String?

    @Flag(help: "Print the reply's result as JSON, for scripts (a refusal goes to stderr as {\"error\": {...}}).")
    var json = false

    /// Sends `request`; prints the raw result under --json, else hands the typed result to `render`.
    func run<R: RequestType>(_ request: R, render: (R.Response) -> Void) throws {
        try session { client in
            if json {
                printJSON(try client.callRaw(request))
            } else {
                render(try client.call(request))
            }
        }
    }

    /// Runs `body` with a connected client; a failure is printed and becomes the exit status.
    func session<T>(_ body: (Client) throws -> T) throws -> T {
        do {
            return try body(try Client(socketPath: socket ?? Client.defaultSocketPath))
        } catch let error as ClientError {
            if json, case .server(let wire) = error, let line = try? WireCoding.encoder().encode(["error": wire]) {
                FileHandle.standardError.write(line + Data("\n".utf8))
            } else {
                FileHandle.standardError.write(Data("bbcsctl: \(error)\n".utf8))
            }
            throw ExitCode(Exit.status(for: error))
        }
    }
}

@main
struct BBCSCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bbcsctl",
        abstract: "Read and manage the council business plan held by bbcsd.",
        discussion: """
            Exit status: 0 success, 3 not found, 4 conflict, 64 usage or invalid parameters,
            69 cannot connect to the daemon, 70 daemon failure, 75 database unavailable,
            76 reply not understood, 77 unauthenticated or permission denied.
            """,
        version: bbcsVersion,
        subcommands: [WhoAmI.self, PlanCommand.self, Objectives.self, Indicators.self, IndicatorCommand.self,
                      FigureCommand.self, Due.self, TargetCommand.self,
                      Tasks.self, TaskCommand.self, Strategies.self, Risks.self, Posts.self,
                      Reminders.self, SchedulerCommand.self, Report.self,
                      UserCommand.self, PostCommand.self, Audit.self])

    static func main() {
        main(hoistingGlobalOptions(Array(CommandLine.arguments.dropFirst())))
    }

    /// `bbcsctl --socket P --json tasks` is the documented form, but argument-parser only
    /// accepts a subcommand's options after its name: move the leading ones to the end.
    static func hoistingGlobalOptions(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var rest = arguments[...]
        while let first = rest.first {
            if first == "--json" {
                leading.append(first)
                rest = rest.dropFirst()
            } else if first == "--socket", rest.count >= 2 {
                leading += rest.prefix(2)
                rest = rest.dropFirst(2)
            } else if first.hasPrefix("--socket=") {
                leading.append(first)
                rest = rest.dropFirst()
            } else {
                break
            }
        }
        if leading.isEmpty || rest.isEmpty { return arguments }
        if let terminator = rest.firstIndex(of: "--") {
            return Array(rest[..<terminator]) + leading + Array(rest[terminator...])
        }
        return Array(rest) + leading
    }
}

struct WhoAmI: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "whoami", abstract: "Show who the daemon takes you to be, and your posts.")
    @OptionGroup var connection: Connection

    func run() throws {
        try connection.run(HelloRequest()) { hello in
            let id = hello.identity
            print("\(id.user) (uid \(id.uid), gid \(id.gid), pid \(id.pid))")
            print("posts: \(hello.posts.isEmpty ? "none" : hello.posts.joined(separator: ", "))")
            print("server: \(hello.server) \(hello.version), protocol \(hello.protocolVersion)")
        }
    }
}

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Show or import the business plan.", subcommands: [Show.self, Import.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the plan's title, vision, values, counts and budget.")
        @OptionGroup var connection: Connection
        @Option(help: ArgumentHelp("Plan code (default: the newest plan).", valueName: "code")) var plan: String?

        func run() throws {
            try connection.run(PlanShowRequest(plan: plan)) { p in
                print("\(p.title) (\(p.code))")
                print("\(p.council): \(p.priority), \"\(p.priorityStatement)\"")
                print("Years \(p.firstYear) to \(p.lastYear)")
                print("Vision: \(p.vision)")
                print("Values:")
                for value in p.values { print("  \(value.name): \(value.description)") }
                let c = p.counts
                print("\(c.objectives) objectives, \(c.indicators) indicators, \(c.tasks) key tasks, \(c.strategies) strategies, \(c.posts) posts")
                if !p.budget.isEmpty {
                    let years = Set(p.budget.flatMap { $0.amounts.keys }).sorted()
                    var table = Table("Budget line", "Kind")
                    table.headers += years
                    for line in p.budget {
                        table.rows.append([line.description, line.kind.rawValue] + years.map { year in
                            (line.amounts[year] ?? nil).map { formatValue($0, percent: false) } ?? "-"
                        })
                    }
                    print("\n" + table.render())
                }
                if !p.notes.isEmpty { print("\n\(p.notes.count) transcription notes (bbcsctl --json plan show lists them)") }
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load a plan data file (Config/plans/FORMAT.md) in one transaction.",
            discussion: "Importing the same file again changes nothing. A bad file is refused whole, naming the field.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("The plan file.", valueName: "file")) var file: String

        func run() throws {
            let content: String
            do { content = try String(contentsOfFile: file, encoding: .utf8) } catch {
                FileHandle.standardError.write(Data("bbcsctl: cannot read \(file): \(error.localizedDescription)\n".utf8))
                throw ExitCode(Exit.usage)
            }
            FileHandle.standardError.write(Data("importing \(file) (\(content.utf8.count) bytes)…\n".utf8))
            try connection.run(PlanImportRequest(content: content, source: file)) { summary in
                if summary.changedRows == 0 {
                    print("plan \(summary.plan): already up to date (\(summary.indicators) indicators, \(summary.tasks) tasks); nothing changed")
                } else {
                    print("plan \(summary.plan): \(summary.changedRows) rows changed (\(summary.indicators) indicators, \(summary.tasks) tasks)")
                    for (table, n) in summary.changes.sorted(by: { $0.key < $1.key }) { print("  \(table): \(n)") }
                }
            }
        }
    }
}

struct Objectives: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the plan's objectives and service-level objectives.")
    @OptionGroup var connection: Connection
    @Flag(name: .shortAndLong, help: "Also list each objective's service-level objectives.") var verbose = false

    func run() throws {
        try connection.run(ObjectiveListRequest()) { result in
            var table = Table("Code", "Indicators", "Tasks", "Title")
            for o in result.objectives { table.add(o.code, "\(o.indicatorCount)", "\(o.taskCount)", o.title) }
            print(table.render())
            guard verbose else { return }
            for o in result.objectives {
                print("\n\(o.code) \(o.title)")
                var area = ""
                for so in o.serviceObjectives {
                    if so.serviceArea != area { print("  \(so.serviceArea)"); area = so.serviceArea }
                    print(wrap("- " + so.text, indent: "    "))
                }
            }
        }
    }
}

struct Indicators: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List performance indicators and service data.")
    @OptionGroup var connection: Connection
    @Option(help: ArgumentHelp("Objective code, e.g. CS1.", valueName: "code")) var objective: String?
    @Option(help: ArgumentHelp("service_data, csi, kpi or mpi.", valueName: "category")) var category: IndicatorCategory?
    @Option(help: ArgumentHelp("Service area name.", valueName: "name")) var serviceArea: String?
    @Option(help: ArgumentHelp("Owner post name.", valueName: "post")) var owner: String?

    func run() throws {
        let request = IndicatorListRequest(objective: objective, category: category, serviceArea: serviceArea, ownerPost: owner)
        try connection.run(request) { result in
            var table = Table("Code", "Category", "Obj", "Unit", "Freq", "Latest", "RAG", "Owner", "Title")
            for i in result.indicators {
                let latest = i.periods.last { $0.figure != nil }
                table.add(i.code, i.category.rawValue, i.objective ?? "-", i.unit.rawValue, i.frequency.rawValue,
                          latest.map { "\($0.period) \(formatValue($0.figure?.value, percent: i.unit == .percent))" } ?? "-",
                          latest?.rag.rawValue ?? "-", i.ownerPost, i.title)
            }
            print(table.render())
            print("\(result.indicators.count) indicators")
        }
    }
}

extension IndicatorCategory: ExpressibleByArgument {}
extension TaskStatus: ExpressibleByArgument {}
extension CalendarDate: ExpressibleByArgument {
    public init?(argument: String) { self.init(iso: argument) }
}

struct IndicatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "indicator", abstract: "Work with one indicator.", subcommands: [Show.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an indicator's definition, baseline, targets and figures.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Indicator code, e.g. ComS_011.", valueName: "code")) var code: String

        func run() throws {
            try connection.run(IndicatorShowRequest(code: code)) { d in
                let i = d.indicator
                let percent = i.unit == .percent
                print("\(i.code)  \(i.title)")
                print("  category \(i.category.rawValue), objective \(i.objective ?? "none"), service area \(i.serviceArea)")
                print("  unit \(i.unit.rawValue), polarity \(i.polarity.rawValue), \(i.frequency.rawValue)"
                      + ", tolerance \(formatValue(i.tolerance ?? 5, percent: true))" + (i.tolerance == nil ? " (default)" : ""))
                print("  owner \(i.ownerPost)" + (d.ownerFromDocument ? "" : " (service area head; the plan names no owner)"))
                if let parent = i.parent { print("  part of \(parent)") }
                if !d.children.isEmpty { print("  parts: \(d.children.joined(separator: ", "))") }
                if !d.aliases.isEmpty { print("  also written: \(d.aliases.joined(separator: ", "))") }
                if i.isNew { print("  new in this plan") }
                let planYears = Set(i.periods.map { $0.period.year.description })
                let baseline = d.actuals.keys.filter { !planYears.contains($0) }.sorted()
                if !baseline.isEmpty {
                    print("  baseline: " + baseline.map { "\($0) \(formatValue(d.actuals[$0], percent: percent))" }.joined(separator: ", "))
                }
                let targets = d.targets.keys.sorted().map { "\($0) \(formatValue(d.targets[$0], percent: percent))" }
                print("  targets: " + (targets.isEmpty ? "none set" : targets.joined(separator: ", ")))
                print("\n" + periodTable(i.periods, percent: percent).render())
                if !d.comments.isEmpty { print("\nComments:\n" + wrap(d.comments)) }
            }
        }
    }
}

struct Tasks: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List key tasks; undated tasks show their note instead of a date.")
    @OptionGroup var connection: Connection
    @Option(help: ArgumentHelp("A responsible post.", valueName: "post")) var post: String?
    @Option(help: ArgumentHelp("not_started, on_track, at_risk, off_track, completed, deferred or cancelled.", valueName: "status"))
    var status: TaskStatus?
    @Option(help: ArgumentHelp("Target date on or before (YYYY-MM-DD).", valueName: "date")) var dueBefore: CalendarDate?
    @Option(help: ArgumentHelp("Target date on or after (YYYY-MM-DD).", valueName: "date")) var dueAfter: CalendarDate?
    @Flag(help: "Only open tasks past their target date.") var overdue = false
    @Option(help: ArgumentHelp("Only open tasks due from today to this many days ahead.", valueName: "days")) var dueWithin: Int?
    @Flag(help: "Only tasks for which a post you hold is responsible.") var mine = false

    func run() throws {
        let request = TaskListRequest(post: post, status: status, dueBefore: dueBefore, dueAfter: dueAfter,
                                      overdue: overdue ? true : nil, dueWithin: dueWithin, mine: mine ? true : nil)
        try connection.run(request) { result in
            var table = Table("Code", "Obj", "Target", "Status", "Done", "Responsible", "Action")
            for t in result.tasks {
                table.add(t.code, t.objective, (t.targetDate?.description ?? "undated") + (t.overdue ? " OVERDUE" : ""), t.status.rawValue,
                          "\(t.progress)%", t.responsiblePosts.joined(separator: "; "), t.action)
            }
            print(table.render())
            print("\(result.tasks.count) tasks")
        }
    }
}

struct TaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task", abstract: "Show a key task, record its progress, move its target date, read its history.",
        subcommands: [Show.self, Update.self, Reschedule.self, History.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a key task with its partners, budget and risks.")
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("Task code, e.g. BCRPASB_27.", valueName: "code")) var code: String

        func run() throws {
            try connection.run(TaskShowRequest(code: code)) { d in
                let t = d.task
                print("\(t.code)  \(t.action)" + (t.isNew ? "  (new)" : ""))
                print("  objective \(t.objective); status \(t.status.rawValue), \(t.progress)% done"
                      + (t.completedOn.map { ", completed \($0)" } ?? ""))
                print("  target: \(t.targetDate?.description ?? "undated") (\"\(t.targetText)\")" + (t.overdue ? ", OVERDUE" : ""))
                if d.slippage.times > 0 { print("  slipped \(d.slippage.times) time(s), \(d.slippage.days) days in all") }
                print("  responsible: \(t.responsiblePosts.joined(separator: "; "))")
                if !d.partners.isEmpty { print("  partners: \(d.partners.joined(separator: "; "))") }
                if !d.aliases.isEmpty { print("  also written: \(d.aliases.joined(separator: ", "))") }
                if !d.outcome.isEmpty { print("\nOutcome:\n" + wrap(d.outcome)) }
                if !d.budgetComment.isEmpty { print("\nBudget:\n" + wrap(d.budgetComment)) }
                if !d.risks.isEmpty {
                    print("\nRisks:")
                    for risk in d.risks {
                        let covered = risk.strategicRisks.isEmpty ? "not covered by a strategic risk"
                            : "strategic risks \(risk.strategicRisks.map(String.init).joined(separator: ", "))"
                        print(wrap("- \(risk.threat) (\(covered)). Mitigation: \(risk.mitigation)"))
                    }
                }
            }
        }
    }
}

struct Strategies: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List strategy and policy documents and their renewal.")
    @OptionGroup var connection: Connection

    func run() throws {
        try connection.run(StrategyListRequest()) { result in
            var table = Table("Renewal", "Date", "Responsible", "Document")
            for s in result.strategies {
                table.add(s.renewalText, s.renewalDate?.description ?? "-", s.responsible.joined(separator: "; "), s.name)
            }
            print(table.render())
        }
    }
}

struct Risks: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List strategic risks, key strategic risks and each task's risks.")
    @OptionGroup var connection: Connection

    func run() throws {
        try connection.run(RiskListRequest()) { r in
            print("Strategic risk register entries cited:")
            var register = Table("Risk", "Tasks", "Title")
            for s in r.strategicRisks { register.add("\(s.number)", "\(s.tasks.count)", s.title ?? "-") }
            print(register.render())
            print("\nKey strategic risks:")
            for k in r.keyStrategicRisks { print(wrap("- \(k.risk). Mitigation: \(k.mitigation)")) }
            print("\nKey task risks:")
            var tasks = Table("Task", "Covered by", "Threat", "Mitigation")
            for t in r.taskRisks {
                tasks.add(t.task, t.strategicRisks.map(String.init).joined(separator: ","), t.threat, t.mitigation)
            }
            print(tasks.render())
        }
    }
}

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
