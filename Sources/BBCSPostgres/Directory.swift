import BBCSCore
import Foundation

/// Users, posts and who holds them: the facts the permission policy decides from.
/// Changes are serialised by one advisory lock, so "the last administrator" is never
/// removed by two administrators at once.
public struct Directory: Sendable {
    let pool: PGPool

    public init(pool: PGPool) { self.pool = pool }

    /// Arbitrary but fixed: the advisory lock that serialises user and post changes.
    static let lockKey = 0x6262_6373_7573_6572  // "bbcsuser"

    /// The caller as the database knows them on `today`.
    public func principal(login: String, uid: UInt32, pid: Int32, today: CalendarDate) async throws -> Principal {
        try await pool.withConnection { db in
            let rows = try db.query("""
                SELECT u.disabled_at IS NOT NULL,
                       coalesce((SELECT json_agg(DISTINCT p.name) FROM post_holders h JOIN posts p ON p.id = h.post_id
                                 WHERE h.user_id = u.id AND \(Self.heldOn("h", "$2"))), '[]')::text
                FROM users u WHERE u.login = $1
                """, [login, today.description])
            guard rows.count == 1 else { return Principal(login: login, uid: uid, pid: pid, standing: .unregistered, posts: []) }
            let disabled = rows.bool(0, 0)
            return Principal(login: login, uid: uid, pid: pid, standing: disabled ? .disabled : .active,
                             posts: disabled ? [] : try decodeJSON(rows.text(0, 1)))
        }
    }

    /// SQL condition: holding `alias` is in force on the date parameter `day`.
    static func heldOn(_ alias: String, _ day: String) -> String {
        "\(alias).revoked_at IS NULL AND \(alias).valid_from <= \(day)::date AND (\(alias).valid_until IS NULL OR \(alias).valid_until >= \(day)::date)"
    }

    // MARK: users

    public func addUser(login: String, name: String, email: String?, by actor: Actor) async throws -> UserSummary {
        // The address goes into a mail header: one plain address, no line breaks.
        if let email, !Self.isPlainAddress(email) {
            throw StoreError.invalid(param: "email", "\"\(email)\" is not an e-mail address like name@example.org")
        }
        return try await serialised { db in
            if try db.query("SELECT 1 FROM users WHERE login = $1", [login]).count > 0 {
                throw StoreError.conflict("\(login) is already a bbcs user", hint: "bbcsctl user list")
            }
            try db.query("""
                INSERT INTO users (login, name, email, created_at, created_by) VALUES ($1, $2, $3, to_timestamp($4::double precision), $5)
                """, [login, name, email, actor.epochSeconds, actor.principal.login])
            let user = try Self.user(login, db, today: actor.today)
            try AuditLog.record(db, actor, object: login, after: user)
            return user
        }
    }

    public func users(today: CalendarDate) async throws -> [UserSummary] {
        try await pool.withConnection { db in
            let rows = try db.query("SELECT login FROM users ORDER BY login")
            return try rows.map { try Self.user(rows.text($0, 0), db, today: today) }
        }
    }

    /// Disables or re-enables `login`. Disabling the last administrator is a conflict.
    public func setDisabled(_ login: String, _ disabled: Bool, by actor: Actor) async throws -> UserSummary {
        try await serialised { db in
            let before = try Self.user(login, db, today: actor.today)
            guard before.disabled != disabled else { return before }
            try db.query("""
                UPDATE users SET disabled_at = CASE WHEN $2 THEN to_timestamp($3::double precision) END,
                                 disabled_by = CASE WHEN $2 THEN $4 END
                WHERE login = $1
                """, [login, disabled, actor.epochSeconds, actor.principal.login])
            try Self.requireAdminRemains(db, today: actor.today, change: "disabling \(login)")
            let after = try Self.user(login, db, today: actor.today)
            try AuditLog.record(db, actor, object: login, before: ["disabled": before.disabled], after: ["disabled": after.disabled])
            return after
        }
    }

    // MARK: posts

    public func addPost(_ name: String, by actor: Actor) async throws -> PostSummary {
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw StoreError.invalid(param: "name", "a post needs a name") }
        return try await serialised { db in
            if let known = try findPost(name, db)?.name {
                throw StoreError.conflict("the post \"\(known)\" already exists" + (known == name ? "" : " (\"\(name)\" is one of its spellings)"),
                                          hint: "bbcsctl posts")
            }
            try db.query("INSERT INTO posts (name) VALUES ($1)", [name])
            let post = PostSummary(name: name, aliases: [], indicatorCount: 0, taskCount: 0, headOf: [])
            try AuditLog.record(db, actor, object: name, after: post)
            return post
        }
    }

    /// Lets `login` hold `post` from `from` (default today) until `until` (inclusive; nil is open-ended).
    public func grant(login: String, post: String, from: CalendarDate?, until: CalendarDate?, by actor: Actor) async throws -> PostHolding {
        let from = from ?? actor.today
        if let until, until < from {
            throw StoreError.invalid(param: "until", "the holding would end (\(until)) before it begins (\(from))")
        }
        return try await serialised { db in
            let userID = try Self.userID(login, db)
            let postID = try resolvePost(post, db)
            let overlapping = try db.query("""
                SELECT 1 FROM post_holders h WHERE h.user_id = $1 AND h.post_id = $2 AND h.revoked_at IS NULL
                  AND h.valid_from <= coalesce($4::date, 'infinity') AND coalesce(h.valid_until, 'infinity') >= $3::date
                """, [userID, postID, from.description, until?.description])
            if overlapping.count > 0 {
                throw StoreError.conflict("\(login) already holds \"\(post)\" for some of those days", hint: "bbcsctl post holders --all")
            }
            let id = try db.query("""
                INSERT INTO post_holders (user_id, post_id, valid_from, valid_until, granted_by, granted_at)
                VALUES ($1, $2, $3, $4, $5, to_timestamp($6::double precision)) RETURNING id
                """, [userID, postID, from.description, until?.description, actor.principal.login, actor.epochSeconds]).int(0, 0)
            let holding = try Self.holdings(db, where: "h.id = $2", [actor.today.description, id])[0]
            try AuditLog.record(db, actor, object: login, after: holding, message: "granted \(holding.post)")
            return holding
        }
    }

    /// Ends every holding of `post` by `login` that has not ended. Removing the last administrator is a conflict.
    public func revoke(login: String, post: String, by actor: Actor) async throws -> [PostHolding] {
        try await serialised { db in
            let userID = try Self.userID(login, db)
            let postID = try resolvePost(post, db)
            let open = "h.user_id = $2 AND h.post_id = $3 AND h.revoked_at IS NULL AND (h.valid_until IS NULL OR h.valid_until >= $1::date)"
            let before = try Self.holdings(db, where: open, [actor.today.description, userID, postID])
            guard !before.isEmpty else {
                throw StoreError.notFound(kind: "holding of \"\(post)\" by", key: login)
            }
            try db.query("""
                UPDATE post_holders h SET revoked_by = $4, revoked_at = to_timestamp($5::double precision) WHERE \(open)
                """, [actor.today.description, userID, postID, actor.principal.login, actor.epochSeconds])
            try Self.requireAdminRemains(db, today: actor.today, change: "revoking \(before[0].post) from \(login)")
            let after = before.map { var h = $0; h.revokedBy = actor.principal.login; h.current = false; return h }
            try AuditLog.record(db, actor, object: login, before: before, after: after, message: "revoked \(before[0].post)")
            return after
        }
    }

    /// Holders of `post` today, or with `all` every holding ever granted.
    public func holders(of post: String, all: Bool, today: CalendarDate) async throws -> (post: String, holders: [PostHolding]) {
        try await pool.withConnection { db in
            guard let found = try findPost(post, db) else { throw StoreError.notFound(kind: "post", key: post) }
            let condition = "h.post_id = $2" + (all ? "" : " AND \(Self.heldOn("h", "$1")) AND u.disabled_at IS NULL")
            return (found.name, try Self.holdings(db, where: condition, [today.description, found.id]))
        }
    }

    /// Registers each login that is not yet a user and makes sure it holds the admin post
    /// today. Used at start for the administrators named in the configuration.
    public func ensureAdmins(_ admins: [(login: String, name: String)], by actor: Actor) async throws -> [String] {
        try await serialised { db in
            var added: [String] = []
            for admin in admins {
                if try db.query("SELECT 1 FROM users WHERE login = $1", [admin.login]).count == 0 {
                    try db.query("""
                        INSERT INTO users (login, name, created_at, created_by) VALUES ($1, $2, to_timestamp($3::double precision), $4)
                        """, [admin.login, admin.name, actor.epochSeconds, actor.principal.login])
                }
                let userID = try Self.userID(admin.login, db)
                let holds = try db.query("""
                    SELECT 1 FROM post_holders h JOIN posts p ON p.id = h.post_id
                    WHERE h.user_id = $2 AND p.name = $3 AND \(Self.heldOn("h", "$1"))
                    """, [actor.today.description, userID, Policy.adminPost])
                guard holds.count == 0 else { continue }
                try db.query("UPDATE users SET disabled_at = NULL, disabled_by = NULL WHERE id = $1", [userID])
                try db.query("""
                    INSERT INTO post_holders (user_id, post_id, valid_from, granted_by, granted_at)
                    SELECT $1, id, $2::date, $3, to_timestamp($4::double precision) FROM posts WHERE name = $5
                    """, [userID, actor.today.description, actor.principal.login, actor.epochSeconds, Policy.adminPost])
                try AuditLog.record(db, actor, object: admin.login, after: ["post": Policy.adminPost],
                                    message: "bootstrap administrator from the daemon's configuration")
                added.append(admin.login)
            }
            return added
        }
    }

    // MARK: helpers

    /// Runs a change in a transaction that holds the directory's lock.
    private func serialised<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        try await pool.transaction { db in
            try db.query("SELECT pg_advisory_xact_lock($1)", [Self.lockKey])
            return try body(db)
        }
    }

    static func isPlainAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && text.count <= 254
            && !text.contains(where: { $0.isWhitespace || $0.isNewline || "<>,;:\"()[]\\".contains($0) })
    }

    private static func requireAdminRemains(_ db: PGConnection, today: CalendarDate, change: String) throws {
        let admins = try db.query("""
            SELECT count(DISTINCT u.id) FROM users u JOIN post_holders h ON h.user_id = u.id JOIN posts p ON p.id = h.post_id
            WHERE p.name = $2 AND u.disabled_at IS NULL AND \(heldOn("h", "$1"))
            """, [today.description, Policy.adminPost]).int(0, 0)
        if admins == 0 {
            throw StoreError.conflict("\(change) would leave no administrator; grant the admin post to someone else first",
                                      hint: "bbcsctl post grant LOGIN admin")
        }
    }

    private static func userID(_ login: String, _ db: PGConnection) throws -> Int {
        let rows = try db.query("SELECT id FROM users WHERE login = $1", [login])
        guard rows.count == 1 else { throw StoreError.notFound(kind: "user", key: login) }
        return try rows.int(0, 0)
    }

    private static func user(_ login: String, _ db: PGConnection, today: CalendarDate) throws -> UserSummary {
        let rows = try db.query("SELECT id, name, email, disabled_at IS NOT NULL FROM users WHERE login = $1", [login])
        guard rows.count == 1 else { throw StoreError.notFound(kind: "user", key: login) }
        let posts = try holdings(db, where: "h.user_id = $2 AND h.revoked_at IS NULL", [today.description, try rows.int(0, 0)])
        return UserSummary(login: login, name: try rows.text(0, 1), email: rows.string(0, 2), disabled: rows.bool(0, 3), posts: posts)
    }

    /// Holdings matching `condition`, in which `$1` is today.
    private static func holdings(_ db: PGConnection, where condition: String, _ parameters: [any PGParameter]) throws -> [PostHolding] {
        let rows = try db.query("""
            SELECT u.login, p.name, to_char(h.valid_from, 'YYYY-MM-DD'), to_char(h.valid_until, 'YYYY-MM-DD'),
                   \(heldOn("h", "$1")) AND u.disabled_at IS NULL, h.granted_by, h.revoked_by
            FROM post_holders h JOIN users u ON u.id = h.user_id JOIN posts p ON p.id = h.post_id
            WHERE \(condition) ORDER BY h.valid_from, u.login, p.name, h.id
            """, parameters)
        return try rows.map { r in
            PostHolding(login: try rows.text(r, 0), post: try rows.text(r, 1), from: try date(rows.text(r, 2)),
                        until: try rows.string(r, 3).map(date), current: rows.bool(r, 4), grantedBy: try rows.text(r, 5),
                        revokedBy: rows.string(r, 6))
        }
    }
}

func date(_ text: String) throws -> CalendarDate {
    guard let date = CalendarDate(iso: text) else { throw PGError.unexpectedResult("\"\(text)\" is not a date") }
    return date
}
