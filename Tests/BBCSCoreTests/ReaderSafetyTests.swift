import BBCSCore
@testable import BBCSReport
import Foundation
import Testing

/// Values and text that cannot hurt readers: bounds on what comes in, number formatting that
/// is total over every Double, text without terminal control characters, CSV cells that no
/// spreadsheet runs, and mail subjects that stay one header.
@Suite("values and text that cannot hurt readers")
struct ReaderSafetyTests {
    // MARK: Bounds

    @Test func countsFitInFiftyThreeBitsAndPercentagesUnderTheCeiling() throws {
        try FigureRules.checkValue(9_007_199_254_740_991, unit: .count)          // 2^53 - 1
        try FigureRules.checkValue(1_000_000, unit: .percent)
        for (value, unit) in [(9_007_199_254_740_992.0, IndicatorUnit.count), (1e19, .count), (1.7e308, .count),
                              (1_000_000.5, .percent), (1e19, .percent), (-.infinity, .count), (.nan, .percent)] {
            #expect(throws: FigureRuleViolation.self, "\(value) \(unit)") { try FigureRules.checkValue(value, unit: unit, param: "target") }
        }
        do { try FigureRules.checkValue(1e19, unit: .count, param: "target") } catch {
            #expect(error.param == "target" && error.message == "target of a count must be at most 9007199254740991 (got 1e+19)")
        }
        #expect(throws: FigureRuleViolation.self) { try FigureRules.checkTolerance(100.5) }
        #expect(throws: FigureRuleViolation.self) { try FigureRules.checkTolerance(.nan) }
    }

    /// Stored quarters near Double's limit: a year to date that would be infinite is unknown.
    @Test func aYearToDateThatOverflowsIsUnknown() {
        let q1 = Period("2025/26 Q1")!, q2 = Period("2025/26 Q2")!
        #expect(Performance.yearToDate(at: q2, unit: .count, values: [q1: 1.7e308, q2: 1.7e308]) == nil)
        #expect(Performance.yearToDate(at: q2, unit: .percent, values: [q1: 1.7e308, q2: 1.7e308]) == nil)
        #expect(Performance.yearToDate(at: q2, unit: .count, values: [q1: 2, q2: 3]) == 5)
    }

    // MARK: Formatting

    @Test(arguments: [
        (0.0, "0"), (-0.0, "0"), (42, "42"), (2.5, "2.5"), (-5, "-5"),
        (9_007_199_254_740_991, "9007199254740991"), (9_007_199_254_740_992, "9007199254740992"),
        (0x1p63, "9.223372036854776e+18"), (-0x1p63, "-9.223372036854776e+18"),
        (1e19, "1e+19"), (-1e19, "-1e+19"), (1.7e308, "1.7e+308"), (.greatestFiniteMagnitude, "1.7976931348623157e+308"),
        (.infinity, "∞"), (-.infinity, "-∞"), (.nan, "NaN"),
    ] as [(Double, String)])
    func everyDoubleFormats(_ value: Double, _ expected: String) {
        #expect(FigureRules.format(value) == expected)
    }

    @Test func layoutsFormatExtremeValuesWithoutTrapping() {
        #expect(formatValue(1e19, percent: false) == "1e+19")
        #expect(formatValue(1e19, percent: true) == "1e+19%")
        #expect(formatValue(.nan, percent: false, decimals: 1) == "NaN")
        #expect(formatValue(.infinity, percent: true) == "∞%")
        #expect(formatValue(12.345, percent: true, decimals: 1) == "12.3%")
        #expect(formatValue(nil, percent: false) == "-")
        #expect(formatValue(0.5, percent: false, decimals: 400) == "0.50000000000000000")
    }

    // MARK: Control characters

    @Test func controlCharactersAreReplaced() {
        let hostile = "Quiet\u{1B}]0;pwned\u{07} spring\u{1B}[2J\u{7F}\u{9B}31m\u{0}"
        #expect(printable(hostile) == "Quiet\u{FFFD}]0;pwned\u{FFFD} spring\u{FFFD}[2J\u{FFFD}\u{FFFD}31m\u{FFFD}")
        #expect(printable("line one\r\nline two\tend\rover") == "line one\nline two\tend\u{FFFD}over")
        #expect(printable("line one\nline two\tend", lineBreaks: false) == "line one line two end")
        #expect(printable("Café, naïve, 👩‍👩‍👧") == "Café, naïve, 👩‍👩‍👧")
    }

    @Test func tablesAndWrappedTextCarryNoControlCharacters() {
        var table = Table("Code", "Note")
        table.add("ComS_011\u{1B}[31m", "red\nalert\u{1B}[0m")
        let rendered = table.render()
        #expect(!rendered.unicodeScalars.contains { $0.properties.generalCategory == .control && $0 != "\n" })
        #expect(rendered.contains("ComS_011\u{FFFD}[31m") && rendered.contains("red alert\u{FFFD}[0m"))
        #expect(wrap("- a\u{1B}[8mhidden\u{1B}[0m note") == "  - a\u{FFFD}[8mhidden\u{FFFD}[0m note")
        #expect(escape("<b>\u{1B}[31m</b>") == "&lt;b&gt;\u{FFFD}[31m&lt;/b&gt;")
    }

    // MARK: CSV

    @Test(arguments: [
        ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"), ("@SUM(A1:A2)", "'@SUM(A1:A2)"), ("-", "'-"),
        ("\t=1", "'\t=1"), ("\r=1", "'\u{FFFD}=1"),
        ("-5", "-5"), ("-12.5", "-12.5"), ("1e+19", "1e+19"), ("42", "42"),
        ("Quiet spring = fewer calls", "Quiet spring = fewer calls"), ("", ""),
        ("note\u{1B}[31m", "note\u{FFFD}[31m"), ("two\nlines", "two\nlines"),
    ] as [(String, String)])
    func csvCellsAreNeutralised(_ field: String, _ expected: String) {
        #expect(CSVReport.cell(field) == expected)
    }

    // MARK: Mail

    @Test func anASCIISubjectStaysPlainOnOneLine() {
        #expect(MailMessage.subjectHeader("[bbcs] BCRPASB_27 is due in 7 days") == "Subject: [bbcs] BCRPASB_27 is due in 7 days")
        #expect(MailMessage.subjectHeader("[bbcs] x\r\nBcc: victim@example.org\rX: y\n") == "Subject: [bbcs] x  Bcc: victim@example.org X: y ")
    }

    @Test func aNonASCIISubjectIsEncodedInFoldedWordsOfWholeCharacters() throws {
        let subject = "[bbcs] Stratégie de sécurité communautaire — renouvellement dû le 31 mars 2026 ✓ 👩‍👩‍👧\r\nBcc: victim@example.org"
        let header = MailMessage.subjectHeader(subject)
        let lines = header.components(separatedBy: "\n")
        #expect(lines.count > 1)
        #expect(lines.allSatisfy { $0.count <= 76 && $0.unicodeScalars.allSatisfy(\.isASCII) }, "\(lines)")
        #expect(!header.contains("\r") && !header.contains("\nBcc"))
        var decoded = Data()
        for (index, line) in lines.enumerated() {
            let word = index == 0 ? String(line.dropFirst("Subject: ".count)) : String(line.dropFirst())
            #expect(index == 0 ? line.hasPrefix("Subject: =?UTF-8?B?") : line.hasPrefix(" =?UTF-8?B?"))
            #expect(word.count <= 75 && word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="))
            let bytes = try #require(Data(base64Encoded: String(word.dropFirst(10).dropLast(2))))
            // Each word holds whole characters: it decodes on its own.
            #expect(String(data: bytes, encoding: .utf8) != nil, "\(word)")
            decoded += bytes
        }
        #expect(String(decoding: decoded, as: UTF8.self) == MailMessage.headerValue(subject))
        #expect(String(decoding: decoded, as: UTF8.self).hasSuffix("👩‍👩‍👧  Bcc: victim@example.org"))
    }

    @Test func theMessageHasOneToAndOneSubject() {
        let message = MailMessage.compose(to: "officer@example.org\nBcc: x@example.org", subject: "[bbcs] Été\r\nBcc: y@example.org",
                                          body: "Hello")
        let headers = message.components(separatedBy: "\n\n")[0].components(separatedBy: "\n")
        #expect(headers.first == "To: officer@example.org Bcc: x@example.org")
        #expect(headers[1].hasPrefix("Subject: =?UTF-8?B?"))
        #expect(!headers.contains { $0.hasPrefix("Bcc:") })
        #expect(headers.contains("MIME-Version: 1.0") && headers.contains("Content-Type: text/plain; charset=utf-8"))
        #expect(message.hasSuffix("\n\nHello\n"))
    }
}
