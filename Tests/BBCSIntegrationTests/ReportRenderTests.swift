import BBCSClient
import BBCSCore
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// The HTML report as members see it, rendered by headless Chromium (Scripts/render-report.sh):
/// an A4 PDF whose first page is the summary with its exceptions and key, and a PNG of every
/// page, kept in .build/test-output/report-render for a person to look at.
@Suite("report in a browser", .enabled(if: Browser.available, "needs Chromium and poppler-utils (.ci/run installs them)"))
struct ReportRenderTests {
    @Test func theA4ReportOpensWithAOnePageSummaryAndEveryPageRenders() throws {
        let daemon = try TestDaemon(extraArguments: ["--now", "2025-10-20T09:00:00Z"])
        let c = try daemon.client()
        let q2 = Period("2025/26 Q2")!
        _ = try c.call(FigureSubmitRequest(code: "ComS_011", period: q2, value: 600, note: "Summer events, two large disorders", forecast: 1800))
        _ = try c.call(FigureSubmitRequest(code: "ComS_093a", period: q2, value: 10, provisional: true))
        _ = try c.call(RiskReviewRequest(risk: "BCRPMS_01/R1", likelihood: 3, impact: 4, note: "Rota cut back"))
        let output = packageRoot.appendingPathComponent(".build/test-output/report-render")
        try? FileManager.default.removeItem(at: output)
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let html = output.appendingPathComponent("q2.html")
        let built = try daemon.ctl(["report", "--period", "2025/26 Q2", "--format", "html", "-o", html.path])
        #expect(built.status == 0, "\(built.err)")

        let rendered = try runProgram(packageRoot.appendingPathComponent("Scripts/render-report.sh").path, [html.path])
        #expect(rendered.status == 0, "\(rendered.err)")
        let pdf = output.appendingPathComponent("q2.pdf").path
        let info = try runProgram("/usr/bin/pdfinfo", [pdf]).out
        #expect(info.contains("(A4)"), "\(info)")
        let pages = Int(info.split(separator: "\n").first { $0.hasPrefix("Pages:") }?.split(separator: " ").last ?? "") ?? 0
        #expect(pages > 2)
        // The summary prints on a page of its own: counts, the exceptions table and the key.
        let first = try runProgram("/usr/bin/pdftotext", ["-f", "1", "-l", "1", "-layout", pdf, "-"]).out
        for text in ["Summary", "Exceptions: red indicators", "ComS_011", "Key to the symbols", "Provisional figures"] {
            #expect(first.contains(text), "page 1 has no \"\(text)\"")
        }
        #expect(!first.contains("Key performance indicators"), "page 1 runs on into the sections")
        let png = try runProgram("/usr/bin/pdftoppm", ["-png", "-r", "60", pdf, output.appendingPathComponent("page").path])
        #expect(png.status == 0, "\(png.err)")
        let images = try FileManager.default.contentsOfDirectory(atPath: output.path).filter { $0.hasPrefix("page") && $0.hasSuffix(".png") }
        #expect(images.count == pages)
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("q2.png").path))
        print("report rendered: \(pages) A4 pages, PNGs and PDF in \(output.path)")
    }
}

/// Headless Chromium and poppler's tools, as Debian installs them.
enum Browser {
    static let available = ["/usr/bin/chromium", "/usr/bin/pdftoppm", "/usr/bin/pdfinfo", "/usr/bin/pdftotext"]
        .allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
}
