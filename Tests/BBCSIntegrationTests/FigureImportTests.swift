import BBCSClient
import BBCSCore
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// Figures from CSV over the real socket: a year of quarters at once, corrections, a dry run,
/// refusals naming the line and column with nothing written, an owner limited to their own
/// indicators (a real Unix user), and an export that imports back unchanged.
@Suite("figure import and export", .serialized)
struct FigureImportTests {
    let daemon: TestDaemon
    let db: PGConnection

    init() throws {
        daemon = try TestDaemon(extraArguments: ["--now", "2026-07-10T09:00:00Z"])
        db = try PGConnection(conninfo: daemon.database)
    }

    func write(_ text: String, _ name: String) throws -> String {
        let path = daemon.directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o644)
        return path
    }

    func figures() throws -> Int { try db.query("SELECT count(*) FROM figures").int(0, 0) }

    @Test func aYearOfFiguresImportsAtOnceAndAnExportImportsBackUnchanged() throws {
        let year = """
            code,period,value,note,forecast,provisional
            ComS_011,2025/26 Q1,430,Quiet spring,1800,
            ComS_011,2025/26 Q2,470,"Summer events, two disorders",1820,no
            ComS_011,2025/26 Q3,455,,,
            ComS_011,2025/26 Q4,440,,,yes
            ComS_093a,2025/26 Q1,12,,,
            ComS_093a,2025/26 Q2,10,,,
            ComS_093a,2025/26 Q3,11,,,
            ComS_093a,2025/26 Q4,13,,,
            ComS_033,2025/26,81,,,
            """
        let file = try write(year, "year.csv")
        let dry = try daemon.ctl(["figure", "import", file, "--dry-run"])
        #expect(dry.status == 0 && dry.out.contains("would submit 9, would correct 0, unchanged 0 of 9 lines (dry run: nothing written)"), "\(dry.out)\(dry.err)")
        #expect(try figures() == 0)
        let imported = try daemon.ctl(["figure", "import", file])
        #expect(imported.status == 0 && imported.out.contains("submitted 9, corrected 0, unchanged 0 of 9 lines"),
                "\(imported.err)\n\(daemon.process.log.suffix(2000))")
        #expect(try figures() == 9)
        let c = try daemon.client()
        let q2 = try c.call(FigureHistoryRequest(code: "ComS_011", period: Period("2025/26 Q2")!)).revisions
        #expect(q2.count == 1 && q2[0].value == 470 && q2[0].note == "Summer events, two disorders" && q2[0].forecast == 1820)
        #expect(try c.call(FigureHistoryRequest(code: "ComS_011", period: Period("2025/26 Q4")!)).revisions.first?.provisional == true)
        #expect(try db.query("SELECT count(*) FROM audit WHERE method = 'figure.import' AND outcome = 'ok'").int(0, 0) == 9)

        // Corrections need a reason; a later line of the same figure corrects the earlier one.
        let corrections = try write("""
            code,period,value,reason,provisional
            ComS_011,2025/26 Q3,452,Duplicates removed,
            ComS_011,2025/26 Q3,451,One more duplicate,
            ComS_011,2025/26 Q4,440,Confirmed,no
            ComS_093a,2025/26 Q1,12,,
            """, "corrections.csv")
        let corrected = try daemon.ctl(["--json", "figure", "import", corrections])
        let result = try WireCoding.decoder().decode(FigureImportRequest.Response.self, from: Data(corrected.out.utf8))
        #expect(result.corrected == 3 && result.unchanged == 1 && result.lines.map(\.revision) == [2, 3, 2, 1], "\(corrected.err)")
        #expect(try c.call(FigureHistoryRequest(code: "ComS_011", period: Period("2025/26 Q4")!)).revisions.last?.provisional == false)

        // What export writes imports back as it is.
        let exported = try daemon.ctl(["figure", "export", "--period", "2025/26 Q3"])
        #expect(exported.status == 0 && exported.out.hasPrefix("plan,code,period,period_start,period_end,value,note,forecast,provisional,reason\r\n"))
        #expect(exported.out.contains("CS-2025-2028,ComS_011,2025/26 Q3,2025-10-01,2025-12-31,451,,,no,\r\n") && exported.out.split(separator: "\r\n").count == 3,
                "\(exported.out)")
        let all = try daemon.ctl(["figure", "export", "-o", daemon.directory.appendingPathComponent("all.csv").path])
        #expect(all.status == 0 && all.err.contains("9 figures"))
        let back = try daemon.ctl(["figure", "import", daemon.directory.appendingPathComponent("all.csv").path])
        #expect(back.status == 0 && back.out.contains("submitted 0, corrected 0, unchanged 9 of 9 lines"), "\(back.out)\(back.err)")
    }

    @Test func aRefusedLineRefusesTheFileNamingTheLineAndColumn() throws {
        let before = try figures()
        let bad = try write("""
            code,period,value
            ComS_011,2025/26 Q1,430
            ComS_093a,2025/26 Q1,1.5
            ComS_999,2025/26 Q1,3
            ComS_011,2025/26 Q9,4
            """, "bad.csv")
        let refused = try daemon.ctl(["figure", "import", bad])
        #expect(refused.status == 64)
        #expect(refused.err.contains("3 lines refused, nothing was imported: line 3, column value: value of a count must be a whole number (got 1.5)"), "\(refused.err)")
        #expect(refused.err.contains("line 4, column code: no indicator \"ComS_999\"") && refused.err.contains("line 5, column period"))
        #expect(try figures() == before)
        let noReason = try write("code,period,value\nComS_011,2025/26 Q1,430\nComS_011,2025/26 Q1,431\n", "noreason.csv")
        let refusedAgain = try daemon.ctl(["figure", "import", noReason])
        #expect(refusedAgain.status == 64 && refusedAgain.err.contains("line 3, column reason: ComS_011 2025/26 Q1 already has revision 1 (430): a correction needs a reason"),
                "\(refusedAgain.err)")
        for (text, expected) in [("period,value\nx,1\n", "the header has no code column"), ("code,period,value,colour\n", "unknown column \"colour\""),
                                 ("code,period,value\n\"ComS_011,2025/26 Q1,1\n", "a quoted cell is never closed"), ("", "the file is empty")] {
            let result = try daemon.ctl(["figure", "import", try write(text, "broken.csv")])
            #expect(result.status == 64 && result.err.contains(expected), "\(text): \(result.err)")
        }
        #expect(try figures() == before)
    }

    @Test(.enabled(if: TestAccounts.available, "needs root to create a test account and run setpriv"))
    func anOwnerImportsOnlyTheirOwnIndicators() throws {
        let owner = try TestAccounts.ensure("bbcs-i-owner")
        let c = try daemon.client()
        _ = try c.call(UserAddRequest(login: "bbcs-i-owner"))
        _ = try c.call(PostGrantRequest(login: "bbcs-i-owner", post: "Licensing Manager"))
        let ctl = daemon.directory.appendingPathComponent("bbcsctl").path
        try PermissionTests.copyExecutable(binDirectory.appendingPathComponent("bbcsctl").path, to: ctl)
        let before = try figures()
        let mixed = try write("code,period,value\nComS_093a,2026/27 Q1,11\nComS_011,2026/27 Q1,400\n", "mixed.csv")
        let refused = try TestAccounts.run(owner, ctl, socket: daemon.socketPath, ["figure", "import", mixed])
        #expect(refused.status == 77 && refused.err.contains("line 3: figures of ComS_011 may be changed by holders of"), "\(refused.err)")
        #expect(try figures() == before)
        let own = try write("code,period,value\nComS_093a,2026/27 Q1,11\n", "own.csv")
        let allowed = try TestAccounts.run(owner, ctl, socket: daemon.socketPath, ["figure", "import", own])
        let after = try figures()
        #expect(allowed.status == 0 && after == before + 1, "\(allowed.err)")
    }
}
