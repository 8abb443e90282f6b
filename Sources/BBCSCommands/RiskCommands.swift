import ArgumentParser
import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

struct Risks: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List strategic risks, key strategic risks and each task's risks.")
    @OptionGroup var connection: Connection
    @OptionGroup var plan: PlanOption

    func run() throws {
        try connection.run(plan.scoped(RiskListRequest())) { r in
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

struct RiskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "risk", abstract: "The scored risk register: list it, review a risk's score, read a risk's history.",
        discussion: """
            Each risk (a strategic risk the plan cites, SR3; a key strategic risk, KSR1; a task's risk, BCRPASB_29/R1) is \
            scored likelihood x impact on the council's matrix. Holders of a linked task's post and administrators review it.
            """,
        subcommands: [Register.self, Review.self, History.self])

    struct Register: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every risk with its id, linked tasks and latest score.")
        @OptionGroup var connection: Connection
        @OptionGroup var plan: PlanOption

        func run() throws {
            try connection.run(plan.scoped(RiskRegisterRequest())) { r in
                let bands = r.matrix.bands.map { "\($0.name) to \($0.upTo)" }.joined(separator: ", ")
                print("Matrix \(r.matrix.size)x\(r.matrix.size): \(bands)")
                var table = Table("Risk", "Score", "Band", "L x I", "Reviewed", "Tasks", "Title")
                for risk in r.risks {
                    let review = risk.review
                    table.add(risk.id, review.map { "\($0.score)" } ?? "-", review?.band ?? "unscored",
                              review.map { "\($0.likelihood) x \($0.impact)" } ?? "", review.map { "\($0.at) \($0.by)" } ?? "",
                              risk.tasks.joined(separator: ", "), risk.title)
                }
                print(table.render())
            }
        }
    }

    struct Review: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Score a risk on the council's matrix, with a note.")
        @OptionGroup var connection: Connection
        @OptionGroup var plan: PlanOption
        @Argument(help: ArgumentHelp("The risk's id, e.g. SR3, KSR1 or BCRPASB_29/R1 (`bbcsctl risk register` lists them).", valueName: "id"))
        var id: String
        @Option(help: ArgumentHelp("1 to the matrix's size.", valueName: "n")) var likelihood: Int
        @Option(help: ArgumentHelp("1 to the matrix's size.", valueName: "n")) var impact: Int
        @Option(help: ArgumentHelp("What changed, or why the score stands (required).", valueName: "text")) var note: String

        func run() throws {
            try connection.run(plan.scoped(RiskReviewRequest(risk: id, likelihood: likelihood, impact: impact, note: note))) { r in
                print("\(r.risk): \(r.likelihood) x \(r.impact) = \(r.score), \(r.band) (by \(r.by) at \(r.at))")
            }
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every review of a risk, oldest first.")
        @OptionGroup var connection: Connection
        @OptionGroup var plan: PlanOption
        @Argument(help: ArgumentHelp("The risk's id.", valueName: "id")) var id: String

        func run() throws {
            try connection.run(plan.scoped(RiskHistoryRequest(risk: id))) { r in
                guard !r.reviews.isEmpty else { return print("\(r.risk) has not been scored") }
                var table = Table("At", "By", "L x I", "Score", "Band", "Note")
                for v in r.reviews { table.add(v.at, v.by, "\(v.likelihood) x \(v.impact)", "\(v.score)", v.band, v.note) }
                print(table.render())
            }
        }
    }
}
