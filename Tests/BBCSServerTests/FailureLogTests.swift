@testable import BBCSServer
import Logging
import Synchronization
import Testing

/// The lines a logger was given, kept in order.
private final class CapturedLines: Sendable {
    struct Line: Sendable { let level: Logger.Level; let message: String; let metadata: [String: String] }
    let lines = Mutex<[Line]>([])

    var logger: Logger {
        Logger(label: "test") { _ in Handler(sink: self) }
    }

    struct Handler: LogHandler {
        let sink: CapturedLines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
                 function: String, line: UInt) {
            let fields = (metadata ?? [:]).mapValues { "\($0)" }
            sink.lines.withLock { $0.append(Line(level: level, message: message.description, metadata: fields)) }
        }
    }

    var all: [Line] { lines.withLock { $0 } }
}

/// A clock the test moves by hand.
private final class HandClock: Sendable {
    let instant = Mutex(ContinuousClock.now)
    func advance(_ d: Duration) { instant.withLock { $0 += d } }
    var now: ContinuousClock.Instant { instant.withLock { $0 } }
}

@Suite("failure log")
struct FailureLogTests {
    @Test func anOutageLogsItsCauseOnceAndCountsTheRest() {
        let captured = CapturedLines()
        let clock = HandClock()
        let log = FailureLog(interval: .seconds(5), logger: captured.logger, now: { clock.now })
        // 3,000 refusals over 12 s, one cause: one cause line, a count line each 5 s, the rest at the end.
        for _ in 0..<3000 {
            log.record(.unavailable, cause: "connection failed: no such socket", method: "figure.submit")
            clock.advance(.milliseconds(4))
            log.flush()
        }
        clock.advance(.seconds(1))
        log.recovered()
        let lines = captured.all
        let causes = lines.filter { $0.metadata["error"] != nil }
        #expect(causes.count == 1)
        #expect(causes.first?.message == "database unavailable")
        let counts = lines.compactMap { $0.metadata["refused"].flatMap(Int.init) }
        #expect(counts.reduce(0, +) == 3000)
        #expect(counts.count == 3, "a count line every 5 s of 12 s, then the remainder: \(lines.map(\.message))")
        #expect(lines.contains { $0.message.hasPrefix("database unavailable, 1,2") && $0.message.hasSuffix("requests refused in the last 5.0 s") })
        #expect(lines.last?.message == "database reachable again")
        #expect(lines.last?.metadata["total"] == "3000")
        #expect(lines.count == 5)
    }

    @Test func eachCauseIsLoggedOnceHoweverTheyAlternate() {
        let captured = CapturedLines()
        let clock = HandClock()
        let log = FailureLog(interval: .seconds(5), logger: captured.logger, now: { clock.now })
        for i in 0..<20 { log.record(.unavailable, cause: i % 2 == 0 ? "server closed the connection" : "connection refused", method: "m") }
        clock.advance(.seconds(1))
        for _ in 0..<7 { log.record(.unavailable, cause: "the database system is starting up", method: "m") }
        clock.advance(.seconds(1))
        log.recovered()
        let lines = captured.all
        #expect(lines.compactMap { $0.metadata["error"] } == ["server closed the connection", "connection refused", "the database system is starting up"])
        #expect(lines.compactMap { $0.metadata["refused"] } == ["27"])
    }

    @Test func aWriteFinishingJustAfterAFailureDoesNotEndTheEpisode() {
        let captured = CapturedLines()
        let clock = HandClock()
        let log = FailureLog(interval: .seconds(5), logger: captured.logger, now: { clock.now })
        log.record(.unavailable, cause: "server closed the connection", method: "m")
        clock.advance(.milliseconds(100))
        // A write that was under way when the server went.
        log.recovered()
        log.record(.unavailable, cause: "server closed the connection", method: "m")
        #expect(!captured.all.contains { $0.metadata["total"] != nil })
        #expect(captured.all.filter { $0.metadata["error"] != nil }.count == 1)
        clock.advance(.seconds(2))
        log.recovered()
        #expect(captured.all.last?.message == "database reachable again")
        #expect(captured.all.last?.metadata["total"] == "2")
    }

    @Test func kindsAreCountedApartAndAQuietIntervalEndsOne() {
        let captured = CapturedLines()
        let clock = HandClock()
        let log = FailureLog(interval: .seconds(5), logger: captured.logger, now: { clock.now })
        for _ in 0..<4 { log.record(.poolBusy, cause: "busy", method: "m") }
        log.record(.unavailable, cause: "down", method: "m")
        clock.advance(.seconds(5))
        log.flush()
        #expect(captured.all.filter { $0.metadata["kind"] == "pool_busy" }.compactMap { $0.metadata["refused"] } == ["4"])
        // Another interval without a failure ends each episode.
        clock.advance(.seconds(5))
        log.flush()
        let ends = captured.all.filter { $0.metadata["total"] != nil }
        #expect(Set(ends.map(\.message)) == ["database pool serving again", "database reachable again"])
        // Nothing failing: a success logs nothing.
        let before = captured.all.count
        log.recovered()
        #expect(captured.all.count == before)
    }

    @Test func stoppingWritesTheCountsButNoEnd() {
        let captured = CapturedLines()
        let log = FailureLog(interval: .seconds(5), logger: captured.logger)
        for _ in 0..<3 { log.record(.timeout, cause: "lock", method: "m") }
        log.flush(final: true)
        #expect(captured.all.compactMap { $0.metadata["refused"] } == ["3"])
        #expect(!captured.all.contains { $0.metadata["total"] != nil })
    }
}
