// pgbench on the benchmark's own cluster, with the minimal SQL for the work bbcsd does, so
// each bbcsd figure has its ceiling beside it from the same run on the same machine.
import BBCSDevCluster
import BBCSProcess
import BBCSTestSupport
import Foundation

/// What one pgbench run measured.
struct PgbenchResult {
    let transactionsPerSecond: Double
    let averageLatencyMilliseconds: Double?
    let failed: String?
}

/// The scripts (written into the benchmark's folder) and how to run them.
struct Pgbench {
    let program: String
    let conninfo: String
    let folder: URL
    /// The id range of the plan's indicators, and how many there are.
    let firstIndicator: Int
    let lastIndicator: Int
    let login: String

    /// pgbench's script for `work`; only indicator.show and figure.correct have one.
    func script(_ work: Work) -> String? {
        // pgbench reads `:name` as a variable anywhere, even in string literals: none here.
        let login = "'" + self.login.replacingOccurrences(of: "'", with: "''") + "'"
        switch work {
        case .show:
            // The caller's identity and posts, then one indicator with its targets, actuals and
            // current figures: what indicator.show needs, in two prepared statements.
            return """
                \\set id random(\(firstIndicator), \(lastIndicator))
                SELECT u.id, u.disabled_at IS NULL AS active,
                       (SELECT json_agg(p.name) FROM post_holders h JOIN posts p ON p.id = h.post_id
                        WHERE h.user_id = u.id AND h.revoked_at IS NULL AND h.valid_from <= current_date
                          AND (h.valid_until IS NULL OR h.valid_until >= current_date)) AS posts
                FROM users u WHERE u.login = \(login);
                SELECT i.code, i.title, i.category, i.unit, i.polarity, i.frequency, i.tolerance, p.name AS owner_post,
                       (SELECT json_agg(json_build_object('kind', v.kind, 'period', v.period, 'value', v.value))
                        FROM indicator_values v WHERE v.indicator_id = i.id) AS indicator_values,
                       (SELECT json_agg(json_build_object('period', f.period, 'revision', f.revision, 'value', f.value, 'note', f.note))
                        FROM (SELECT DISTINCT ON (period) period, revision, value, note FROM figures
                              WHERE indicator_id = i.id ORDER BY period, revision DESC) f) AS current_figures
                FROM indicators i JOIN posts p ON p.id = i.owner_post_id WHERE i.id = (:id)::bigint;

                """
        case .correct:
            // One revision and one audit row in a transaction. Each client has its own
            // indicator-period, years before the plan's so bbcsd's own figures are untouched;
            // the next revision number is read inside the INSERT, as a guard would.
            let count = lastIndicator - firstIndicator + 1
            return """
                \\set indicator \(firstIndicator) + :client_id % \(count)
                \\set year 1990 + :client_id / \(count)
                \\set value random(1, 90)
                BEGIN;
                INSERT INTO figures (indicator_id, period, revision, value, note, reason, submitted_by, submitted_uid, submitted_at, late)
                SELECT (:indicator)::bigint, p.period, coalesce(max(f.revision), 0) + 1, (:value)::numeric, 'pgbench', 'pgbench correction', \(login), 0, now(), false
                FROM (SELECT (:year)::int::text || '/' || lpad((((:year)::int + 1) % 100)::text, 2, '0') AS period) p
                LEFT JOIN figures f ON f.indicator_id = (:indicator)::bigint AND f.period = p.period
                GROUP BY p.period;
                INSERT INTO audit (login, uid, pid, method, object, outcome, before, after, message)
                VALUES (\(login), 0, 0, 'figure.correct', 'pgbench', 'ok', jsonb_build_object('value', 1), jsonb_build_object('value', (:value)::int), 'pgbench correction');
                END;

                """
        case .tasks, .report, .mixed:
            return nil
        }
    }

    /// Runs `pgbench -n -c N -j N -T seconds -M prepared -f script` on the cluster.
    func run(_ work: Work, clients: Int, seconds: Int) -> PgbenchResult? {
        guard let text = script(work) else { return nil }
        let file = folder.appendingPathComponent("pgbench-\(work.rawValue).sql")
        do {
            try text.write(to: file, atomically: true, encoding: .utf8)
        } catch {
            return PgbenchResult(transactionsPerSecond: 0, averageLatencyMilliseconds: nil, failed: "cannot write \(file.path): \(error)")
        }
        let arguments = ["-n", "-c", "\(clients)", "-j", "\(clients)", "-T", "\(seconds)", "-M", "prepared", "-f", file.path, conninfo]
        let program = self.program
        let outcome: Program.Outcome
        do {
            outcome = try blocking {
                try await Program(program, arguments).run(separateErrors: true, deadline: .seconds(seconds + 120))
            }
        } catch {
            return PgbenchResult(transactionsPerSecond: 0, averageLatencyMilliseconds: nil, failed: "pgbench did not run: \(error)")
        }
        func number(after prefix: String) -> Double? {
            outcome.output.split(separator: "\n").first { $0.hasPrefix(prefix) }
                .flatMap { Double($0.dropFirst(prefix.count).split(separator: " ").first ?? "") }
        }
        guard outcome.status == 0, let tps = number(after: "tps = ") else {
            let why = (outcome.errors + outcome.output).split(separator: "\n").suffix(3).joined(separator: " / ")
            return PgbenchResult(transactionsPerSecond: 0, averageLatencyMilliseconds: nil, failed: "pgbench failed (status \(outcome.status)): \(why)")
        }
        return PgbenchResult(transactionsPerSecond: tps, averageLatencyMilliseconds: number(after: "latency average = "), failed: nil)
    }
}
