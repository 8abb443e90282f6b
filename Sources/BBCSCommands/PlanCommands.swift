import ArgumentParser
import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Show, compare, import and trace the business plans.",
        subcommands: [Show.self, Diff.self, Import.self, History.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the plan's title, vision, values, counts and budget.")
        @OptionGroup var connection: Connection
        @OptionGroup var plan: PlanOption

        func run() throws {
            try connection.run(plan.scoped(PlanShowRequest())) { p in
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
            let content = try readPlanFile(file)
            writeError("\(dryRun ? "checking" : "importing") \(file) (\(content.utf8.count) bytes)…\n")
            try connection.run(PlanImportRequest(content: content, source: file, dryRun: dryRun ? true : nil)) { summary in
                let counts = "\(summary.indicators) indicators, \(summary.tasks) tasks"
                if summary.changedRows == 0 {
                    print("plan \(summary.plan): already up to date (\(counts)); nothing \(summary.dryRun ? "would change" : "changed")")
                } else {
                    let verb = summary.dryRun ? "would change; dry run, nothing written" : "changed"
                    print("plan \(summary.plan) revision \(summary.revision): \(summary.changedRows) rows \(verb) (\(counts))")
                    for line in summary.lifecycle { print("  \(line.kind.rawValue) \(line.object.rawValue) \(line.code)") }
                    for change in summary.rows { print("  " + describe(change)) }
                }
                printKept(summary.kept)
            }
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What importing a plan file would change, before it is imported (administrators).",
            discussion: """
                The daemon runs the import and rolls it back, so the list is exactly what `plan import` would do: the \
                revision, the indicators and tasks added, retired (kept with their figures, out of current lists) and brought \
                back, then every value that would change, `-` before and `+` after. Nothing is written.
                """)
        @OptionGroup var connection: Connection
        @Argument(help: ArgumentHelp("The revised plan file.", valueName: "file")) var file: String

        func run() throws {
            let content = try readPlanFile(file)
            try connection.run(PlanImportRequest(content: content, source: file, dryRun: true)) { summary in
                let from = summary.previousRevision.map { "revision \($0)" } ?? "nothing loaded"
                print("plan \(summary.plan): \(from) → revision \(summary.revision) (\(summary.file(summary.indicators, "indicator")), \(summary.file(summary.tasks, "task")) in the file)")
                guard summary.changedRows > 0 else { return print("no differences") }
                let signs: [ImportLifecycle.Kind: String] = [.added: "+", .retired: "-", .restored: "+"]
                for line in summary.lifecycle {
                    print("\(signs[line.kind] ?? " ") \(line.object.rawValue) \(line.code) \(line.kind == .restored ? "brought back" : line.kind.rawValue)")
                }
                for change in summary.rows where !(change.table == "plans" && change.field == "imported_at") {
                    switch change.kind {
                    case .added: print("+ " + describe(change))
                    case .removed: print("- " + describe(change))
                    case .changed: print("~ " + describe(change))
                    }
                }
                printKept(summary.kept)
                print("\(summary.changedRows) rows would change; nothing was written")
            }
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every revision of the plan loaded: when, by whom, from which file, what it changed.")
        @OptionGroup var connection: Connection
        @OptionGroup var plan: PlanOption

        func run() throws {
            try connection.run(plan.scoped(PlanHistoryRequest())) { r in
                var table = Table("Revision", "Loaded", "By", "File", "SHA-256", "Rows", "Added", "Retired")
                for v in r.revisions {
                    table.add("\(v.revision)", v.loadedAt, v.loadedBy, v.source ?? "-", v.sha256.map { String($0.prefix(12)) } ?? "-",
                              "\(v.changes.values.reduce(0, +))", v.added.joined(separator: ", "),
                              (v.retired + v.restored.map { "\($0) (back)" }).joined(separator: ", "))
                }
                print("plan \(r.plan)")
                print(table.render())
            }
        }
    }
}

/// A plan file's text; one that cannot be read is a usage error naming why.
private func readPlanFile(_ file: String) throws -> String {
    do { return try String(contentsOfFile: file, encoding: .utf8) } catch {
        writeError("bbcsctl: cannot read \(file): \(readFailure(file))\n")
        throw ExitCode(Exit.usage)
    }
}

private func printKept(_ kept: [ImportKept]) {
    guard !kept.isEmpty else { return }
    print("Kept, changed through bbcs (the file says otherwise):")
    for kept in kept { print("  " + describe(kept)) }
}

extension ImportSummary {
    fileprivate func file(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }
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
