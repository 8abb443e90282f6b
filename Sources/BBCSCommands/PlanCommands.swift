import ArgumentParser
import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

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
