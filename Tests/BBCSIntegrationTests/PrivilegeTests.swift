import BBCSClient
import BBCSCore
import BBCSDevCluster
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// The daemon serves as a runtime role that can append to history and never rewrite it; the
/// owner role migrates. Every statement below is PostgreSQL's own refusal, read from psql,
/// so a refusal by the append-only triggers (which also answer 42501) cannot pass for one.
@Suite("least privilege", .serialized)
struct PrivilegeTests {
    static let daemon = try! TestDaemon(extraArguments: ["--now", "2026-07-10T09:00:00Z"])
    /// The tables that only grow: one row per event, kept for good.
    static let historyTables = ["audit", "figures", "figure_validations", "target_changes", "task_changes", "changes", "request_keys",
                                "published_reports", "published_figures", "risk_reviews"]

    /// Runs one statement with psql over `conninfo`; returns its exit status and what it printed on stderr.
    static func psql(_ conninfo: String, _ statement: String) throws -> (status: Int32, err: String) {
        let psql = try blocking { await PostgresCluster.binDirectory() } + "/psql"
        let result = try runProgram(psql, ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", statement])
        return (result.status, result.err)
    }

    /// The history tables this schema has (request_keys comes with its migration).
    static func presentHistoryTables(_ db: PGConnection) throws -> [String] {
        try historyTables.filter { try db.exists("SELECT WHERE to_regclass(\($0)) IS NOT NULL") }
    }

    /// The daemon writes every kind of history as the runtime role; then, as that role,
    /// rewriting any of it is refused by PostgreSQL, row by row and wholesale.
    @Test func theRuntimeRoleAppendsToHistoryAndCannotRewriteIt() throws {
        let c = try Self.daemon.client()
        let period = Period(startYear: 2025, quarter: 3)
        _ = try c.call(FigureSubmitRequest(code: "ComS_044", period: period, value: 7, note: "first"))
        _ = try c.call(FigureCorrectRequest(code: "ComS_044", period: period, value: 8, reason: "recount", revision: 1))
        _ = try c.call(FigureValidateRequest(code: "ComS_044", period: period))
        _ = try c.call(TargetSetRequest(code: "ComS_044", period: Period(startYear: 2027), value: 12, tolerance: 7, reason: "review"))
        _ = try c.call(TaskUpdateRequest(code: "BCRPASB_29", status: .atRisk, note: "slow"))
        _ = try c.call(TaskRescheduleRequest(code: "BCRPASB_29", date: CalendarDate(year: 2027, month: 2, day: 14), reason: "later"))
        _ = try c.call(PostAddRequest(name: "Privilege Test Post"))
        _ = try c.call(PostGrantRequest(login: currentLogin, post: "Privilege Test Post"))
        _ = try c.call(PostRevokeRequest(login: currentLogin, post: "Privilege Test Post"))
        _ = try c.call(RiskReviewRequest(risk: "BCRPASB_29/R1", likelihood: 2, impact: 2, note: "reviewed"))
        _ = try c.call(RoundOpenRequest(period: period, deadline: CalendarDate(year: 2026, month: 2, day: 14), meeting: "Cabinet"))
        _ = try c.call(ReportPublishRequest(round: period))

        let db = try PGConnection(conninfo: Self.daemon.database)
        let tables = try Self.presentHistoryTables(db)
        for table in tables where table != "request_keys" {
            #expect(try db.query("SELECT count(*) FROM \(quotedIdentifier(table))").int(0, 0) > 0, "the daemon wrote no \(table) row")
        }
        let runtime = TestPostgres.runtime(Self.daemon.database)
        var refusals = 0
        for table in tables {
            let name = quotedIdentifier(table)
            let column = try db.query("""
                SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum LIMIT 1
                """, [table]).string(0, 0) ?? "id"
            let statements = [
                ("UPDATE", "UPDATE \(name) SET \(quotedIdentifier(column)) = \(quotedIdentifier(column))", "permission denied for table \(table)"),
                ("DELETE", "DELETE FROM \(name)", "permission denied for table \(table)"),
                ("TRUNCATE", "TRUNCATE \(name)", "permission denied for table \(table)"),
                ("ALTER", "ALTER TABLE \(name) ADD COLUMN rewritten text", "must be owner of table \(table)"),
                ("DISABLE TRIGGER", "ALTER TABLE \(name) DISABLE TRIGGER USER", "must be owner of table \(table)"),
                ("DROP", "DROP TABLE \(name)", "must be owner of table \(table)"),
            ]
            for (what, statement, refusal) in statements {
                let result = try Self.psql(runtime, statement)
                #expect(result.status != 0 && result.err.contains(refusal), "\(what) \(table): \(result.status) \(result.err)")
                if result.err.contains(refusal) { refusals += 1 }
            }
        }
        print("runtime role: \(refusals) rewrites of \(tables.count) history tables refused by PostgreSQL")
        // Still there, all of it: the counts the daemon left.
        for table in tables where table != "request_keys" {
            #expect(try db.query("SELECT count(*) FROM \(quotedIdentifier(table))").int(0, 0) > 0)
        }
    }

    /// The runtime role reads every table, owns nothing, cannot create, cannot move a
    /// sequence, and holds no right it does not use on any table.
    @Test func theRuntimeRoleHoldsOnlyWhatTheDaemonUses() throws {
        let db = try PGConnection(conninfo: Self.daemon.database)
        let role = PostgresCluster.runtimeRole
        let tables = try db.query("SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'")
        #expect(tables.count > 20)
        for row in 0..<tables.count {
            let table = tables.string(row, 0) ?? ""
            let rights = try db.query("""
                SELECT has_table_privilege($1, $2, 'SELECT'), has_table_privilege($1, $2, 'TRUNCATE'),
                       has_table_privilege($1, $2, 'REFERENCES'), has_table_privilege($1, $2, 'TRIGGER')
                """, [role, "public." + quotedIdentifier(table)])
            #expect(rights.string(0, 0) == "t", "\(role) cannot read \(table)")
            #expect([1, 2, 3].allSatisfy { rights.string(0, $0) == "f" }, "\(role) may truncate, reference or add triggers to \(table)")
        }
        for table in try Self.presentHistoryTables(db) {
            let rights = try db.query("""
                SELECT has_table_privilege($1, $2, 'INSERT'), has_table_privilege($1, $2, 'UPDATE'), has_table_privilege($1, $2, 'DELETE')
                """, [role, table])
            #expect(rights.string(0, 0) == "t" && rights.string(0, 1) == "f" && rights.string(0, 2) == "f", "\(table)")
        }
        let standing = try db.query("""
            SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb, pg_has_role(r.rolname, $2, 'MEMBER'),
                   (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid),
                   (SELECT count(*) FROM pg_proc p WHERE p.proowner = r.oid),
                   has_schema_privilege(r.rolname, 'public', 'CREATE')
            FROM pg_roles r WHERE r.rolname = $1
            """, [role, PostgresCluster.ownerRole])
        #expect(standing.count == 1)
        #expect((0..<4).allSatisfy { standing.string(0, $0) == "f" } && standing.string(0, 6) == "f")
        #expect(try standing.int(0, 4) == 0 && standing.int(0, 5) == 0)
        // Every table belongs to the owner.
        #expect(try db.query("""
            SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'
                AND relowner <> $1::regrole
            """, [PostgresCluster.ownerRole]).int(0, 0) == 0)

        let runtime = TestPostgres.runtime(Self.daemon.database)
        let setval = try Self.psql(runtime, "SELECT setval(pg_get_serial_sequence('audit', 'id'), 1)")
        #expect(setval.status != 0 && setval.err.contains("permission denied for sequence"), "\(setval.err)")
        let create = try Self.psql(runtime, "CREATE TABLE planted (x int)")
        #expect(create.status != 0 && create.err.contains("permission denied for schema public"), "\(create.err)")
        // Dropping the triggers' function would take every append-only trigger with it.
        let function = try Self.psql(runtime, "DROP FUNCTION bbcs_refuse_change() CASCADE")
        #expect(function.status != 0 && function.err.contains("must be owner of function"), "\(function.err)")
    }

    /// The daemon's connections are the runtime role's; the owner's migration connection is closed once it has migrated.
    @Test func theDaemonServesAsTheRuntimeRole() throws {
        let db = try PGConnection(conninfo: Self.daemon.database)
        _ = try Self.daemon.client().call(FigureHistoryRequest(code: "ComS_011"))
        try waitFor {
            try db.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND usename = $1",
                         [PostgresCluster.ownerRole]).int(0, 0) == 0
        }
        let roles = try db.query("""
            SELECT DISTINCT usename::text FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
            """)
        #expect(roles.count == 1 && roles.string(0, 0) == PostgresCluster.runtimeRole)
    }

    /// `bbcsd --migrate` as the owner brings a new database up to date, grants the runtime
    /// role, and exits; a daemon given the runtime role alone then serves it, and one given
    /// only the runtime role on a database not yet migrated says it needs the owner. Run
    /// with the owner alone, it warns that the owner could rewrite history.
    @Test func migrateAsTheOwnerThenServeAsTheRuntimeRole() throws {
        let bbcsd = binDirectory.appendingPathComponent("bbcsd").path
        let schema = ["--schema", packageRoot.appendingPathComponent("Schema").path]
        let database = try TestPostgres.freshDatabase()
        let runtime = TestPostgres.runtime(database)

        let refused = try runProgram(bbcsd, ["--migrate", "--database", runtime] + schema)
        #expect(refused.status == 1, "\(refused.err)")
        #expect(refused.err.contains("migration 1 needs the schema's owner, and bbcsd is connected as \(PostgresCluster.runtimeRole)"),
                "\(refused.err)")

        let first = try runProgram(bbcsd, ["--migrate"] + TestPostgres.daemonArguments(database) + schema)
        #expect(first.status == 0, "\(first.err)")
        #expect(first.out.hasPrefix("applied migrations 1, 2, "), "\(first.out)")
        #expect(first.err.contains("granted the runtime role its privileges role=\(PostgresCluster.runtimeRole)"), "\(first.err)")
        let again = try runProgram(bbcsd, ["--migrate"] + TestPostgres.daemonArguments(database) + schema)
        #expect(again.status == 0 && again.out == "the schema was up to date\n", "\(again.out)\(again.err)")
        #expect(!first.err.contains("connects as the owner of its schema"))
        // Serving as the owner (an install from before the roles) works, with a warning.
        let asOwner = try runProgram(bbcsd, ["--migrate", "--database", TestPostgres.owner(database)] + schema)
        #expect(asOwner.status == 0 && asOwner.err.contains("connects as the owner of its schema"), "\(asOwner.err)")

        let daemon = try TestDaemon(database: database, migrate: false)
        #expect(try daemon.client().call(PlanShowRequest()).code == shippedPlan.plan.code)
        let db = try PGConnection(conninfo: database)
        #expect(try db.query("SELECT count(*) FROM schema_migrations WHERE version = 1").int(0, 0) == 1)
    }

    /// A runtime role that is a superuser, or a member of the owner (even one that must SET
    /// ROLE to use it), is refused before anything is granted.
    @Test(arguments: ["bbcs", "bbcs_t_owner_member"])
    func aRuntimeRoleThatCanActAsTheOwnerIsRefused(_ role: String) throws {
        let admin = try PGConnection(conninfo: TestPostgres.shared.conninfo(database: "postgres"))
        if try !admin.exists("SELECT FROM pg_roles WHERE rolname = 'bbcs_t_owner_member'") {
            try admin.execute("CREATE ROLE bbcs_t_owner_member LOGIN NOINHERIT IN ROLE \(identifier: PostgresCluster.ownerRole)")
        }
        let bbcsd = binDirectory.appendingPathComponent("bbcsd").path
        let database = try TestPostgres.freshDatabase()
        let result = try runProgram(bbcsd, ["--migrate", "--database", database + " user=\(role)", "--migration-database",
                                            TestPostgres.owner(database), "--schema", packageRoot.appendingPathComponent("Schema").path])
        #expect(result.status == 1)
        #expect(result.err.contains("the runtime role \(role) can act as the schema's owner or as a superuser"), "\(result.err)")
        // Nothing was applied: the grants run in the migrations' transaction.
        let db = try PGConnection(conninfo: database)
        #expect(try !db.exists("SELECT WHERE to_regclass('schema_migrations') IS NOT NULL"))
    }

    /// The runtime role's password comes from the libpq password file systemd passes
    /// (LoadCredential=pgpass:...): on a cluster that asks that role for a password, the
    /// daemon serves with the credential and waits for the database without it.
    @Test func thePasswordComesFromTheCredentialSystemdPasses() throws {
        let cluster = PostgresCluster(directory: makeTemporaryDirectory("bbcs-test-password"))
        defer {
            _ = try? blocking { try await cluster.stop() }
            try? FileManager.default.removeItem(at: cluster.directory)
        }
        try blocking { try await cluster.initializeIfNeeded() }
        let hba = cluster.dataDirectory.appendingPathComponent("pg_hba.conf")
        let trusted = try String(contentsOf: hba, encoding: .utf8)
        try ("local all \(PostgresCluster.runtimeRole) scram-sha-256\n" + trusted).write(to: hba, atomically: false, encoding: .utf8)
        try blocking { try await cluster.start() }
        try cluster.createDatabaseIfNeeded()
        let password = "s3cret'\\pass:word"
        let admin = try PGConnection(conninfo: cluster.conninfo(database: "postgres"))
        try admin.query("SELECT set_config('bbcs.password', $1, false)", [password])
        try admin.execute(script: """
            DO $$ BEGIN EXECUTE format('ALTER ROLE bbcs_runtime PASSWORD %L', current_setting('bbcs.password')); END $$
            """)

        let credentials = cluster.directory.appendingPathComponent("credentials")
        try FileManager.default.createDirectory(at: credentials, withIntermediateDirectories: true)
        let passfile = credentials.appendingPathComponent("pgpass")
        // pgpass escapes ':' and '\' with a backslash.
        let escaped = password.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ":", with: "\\:")
        try "*:*:*:\(PostgresCluster.runtimeRole):\(escaped)\n".write(to: passfile, atomically: true, encoding: .utf8)
        chmod(passfile.path, 0o600)

        // Migrated as the owner (trusted), it cannot serve as the runtime role without the password.
        let without = try TestDaemon(database: cluster.conninfo, waitForSocket: false)
        #expect(without.process.wait() == 1)
        #expect(without.process.log.contains("no password supplied"), "\(without.process.log.suffix(2000))")

        let with = try TestDaemon(database: cluster.conninfo, environment: ["CREDENTIALS_DIRECTORY": credentials.path])
        #expect(try with.client().call(PlanShowRequest()).code == shippedPlan.plan.code)
        #expect(!with.process.log.contains(password) && !with.process.log.contains("no password supplied"))
    }
}

/// `name` as a double-quoted SQL identifier, for statements a test writes out in full.
private func quotedIdentifier(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
