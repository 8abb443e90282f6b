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
            discussion: """
                Lists every row it adds or removes and every value it changes. Task target dates moved with \
                `task reschedule` and targets set with `target set` stay, and are listed with what the file says. \
                Importing the same file again changes nothing. A bad file is refused whole, naming the field.
                """)
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("The plan file.", valueName: "file")) var file: String
        @Flag(help: "List what the import would change and keep, writing nothing.") var dryRun = false

        func run() throws {
            let content: String
            do { content = try String(contentsOfFile: file, encoding: .utf8) } catch {
                writeError("bbcsctl: cannot read \(file): \(readFailure(file))\n")
                throw ExitCode(Exit.usage)
            }
            writeError("\(dryRun ? "checking" : "importing") \(file) (\(content.utf8.count) bytes)…\n")
            try connection.run(PlanImportRequest(content: content, source: file, dryRun: dryRun ? true : nil)) { summary in
                let counts = "\(summary.indicators) indicators, \(summary.tasks) tasks"
                if summary.changedRows == 0 {
                    print("plan \(summary.plan): already up to date (\(counts)); nothing \(summary.dryRun ? "would change" : "changed")")
                } else {
                    let verb = summary.dryRun ? "would change; dry run, nothing written" : "changed"
                    print("plan \(summary.plan): \(summary.changedRows) rows \(verb) (\(counts))")
                    for change in summary.rows { print("  " + describe(change)) }
                }
                if !summary.kept.isEmpty {
                    print("Kept, changed through bbcs (the file says otherwise):")
                    for kept in summary.kept { print("  " + describe(kept)) }
                }
            }
        }
    }
}

/// One row or value an import changes, for people: `changed task BCRPASB_27 target date: 2026-03-31 → 2026-06-30`.
private func describe(_ change: ImportChange) -> String {
    let what = "\(change.kind.rawValue) \(rowNames[change.table] ?? words(change.table)) \(change.object)"
        + (change.key.map { " (\(text($0)))" } ?? "")
    switch change.kind {
    case .added: return "\(what): \(text(change.after))"
    case .removed: return "\(what): \(text(change.before))"
    case .changed:
        return "\(what)\(change.field.map { " " + words($0) } ?? ""): \(text(change.before)) → \(text(change.after))"
    }
}

/// A value an import kept, for people:
/// `BCRPASB_28 target date 2026-06-30 (the file says 2026-03-31): moved with task reschedule by alice at 2026-04-10T09:00:00`.
private func describe(_ kept: ImportKept) -> String {
    let field = kept.period.map { "\(words(kept.field)) \($0)" } ?? words(kept.field)
    let why: String
    switch kept.why {
    case .rescheduled: why = "moved with task reschedule"
    case .setByAdmin: why = "set with target set"
    }
    let by = kept.by.map { " by \($0)" } ?? "", at = kept.at.map { " at \($0)" } ?? ""
    return "\(kept.object) \(field) \(text(kept.kept)) (the file says \(text(kept.file))): \(why)\(by)\(at)"
}

/// The plan's tables by the name of one of their rows.
private let rowNames = [
    "plans": "plan", "posts": "post", "post_aliases": "post alias", "service_areas": "service area", "objectives": "objective",
    "service_objectives": "service objective", "indicators": "indicator", "indicator_aliases": "indicator alias",
    "indicator_values": "indicator value", "strategic_risks": "strategic risk", "tasks": "task", "task_aliases": "task alias",
    "task_partners": "task partner", "task_posts": "responsible post", "task_risks": "task risk", "key_strategic_risks": "key strategic risk",
    "strategies": "strategy", "strategy_responsible": "strategy responsible", "budget_lines": "budget line",
]

/// A column's name as words: `owner_post_id` → `owner post`.
private func words(_ column: String) -> String {
    (column.hasSuffix("_id") ? String(column.dropLast(3)) : column).replacingOccurrences(of: "_", with: " ")
}

/// A stored value on one line: a row as `column value, ...`, long texts shortened.
private func text(_ value: JSONValue?) -> String {
    switch value ?? .null {
    case .null: return "none"
    case .bool(let b): return b ? "yes" : "no"
    case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
    case .string(let s):
        let line = String(String.UnicodeScalarView(s.replacingOccurrences(of: "\n", with: " ").unicodeScalars.filter {
            !CharacterSet.controlCharacters.contains($0)
        }))
        return line.count > 60 ? String(line.prefix(59)) + "…" : line
    case .array(let items): return "[" + items.map { text($0) }.joined(separator: ", ") + "]"
    case .object(let columns): return columns.sorted { $0.key < $1.key }.map { "\(words($0.key)) \(text($0.value))" }.joined(separator: ", ")
    }
}
