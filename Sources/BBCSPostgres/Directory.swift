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
            struct Standing: Decodable {
                let disabled: Bool
                let posts: [String]
            }
            guard let user = try db.first(Standing.self, """
                SELECT u.disabled_at IS NOT NULL AS disabled,
                       coalesce((SELECT json_agg(DISTINCT p.name) FROM post_holders h JOIN posts p ON p.id = h.post_id
                                 WHERE h.user_id = u.id AND \(Self.heldOn(today))), '[]') AS posts
                FROM users u WHERE u.login = \(login)
                """) else {
                return Principal(login: login, uid: uid, pid: pid, standing: .unregistered, posts: [])
            }
            return Principal(login: login, uid: uid, pid: pid, standing: user.disabled ? .disabled : .active,
                             posts: user.disabled ? [] : user.posts)
        }
    }

    /// `principal` as the database has it now, with the user's row and today's holdings locked
    /// FOR SHARE until the transaction ends.
    static func lockedPrincipal(_ principal: Principal, today: CalendarDate, _ db: PGConnection) throws -> Principal {
        var fresh = principal
        guard let disabled = try db.first(Bool.self, """
            SELECT disabled_at IS NOT NULL AS disabled FROM users WHERE login = \(principal.login) FOR SHARE
            """) else {
            fresh.standing = .unregistered
            fresh.posts = []
            return fresh
        }
        let posts = try db.rows(String.self, """
            SELECT p.name FROM post_holders h JOIN users u ON u.id = h.user_id JOIN posts p ON p.id = h.post_id
            WHERE u.login = \(principal.login) AND \(heldOn(today)) ORDER BY p.name FOR SHARE OF h
            """)
        fresh.standing = disabled ? .disabled : .active
        fresh.posts = disabled ? [] : Array(NSOrderedSet(array: posts).compactMap { $0 as? String })
        return fresh
    }

    /// SQL condition: the holding `h` is in force on `day`.
    static func heldOn(_ day: CalendarDate) -> PGQuery {
        "h.revoked_at IS NULL AND h.valid_from <= \(day)::date AND (h.valid_until IS NULL OR h.valid_until >= \(day)::date)"
    }

    // MARK: users

    public func addUser(login: String, name: String, email: String?, by actor: Actor) async throws -> UserSummary {
        // The address goes into a mail header: one plain address, no line breaks.
        if let email, !Self.isPlainAddress(email) {
            throw StoreError.invalid(param: "email", "\"\(email)\" is not an e-mail address like name@example.org")
        }
        return try await serialised(actor) { db, actor, key in
            if try db.exists("SELECT 1 FROM users WHERE login = \(login)") {
                throw StoreError.conflict("\(login) is already a bbcs user", hint: Hint("user.list", ["login": login]))
            }
            try db.execute("""
                INSERT INTO users (login, name, email, created_at, created_by)
                VALUES (\(login), \(name), \(email), \(timestamp(actor.recordedAt)), \(actor.principal.login))
                """)
            let user = try Self.user(login, db, today: actor.today)
            try AuditLog.record(db, actor, object: login, after: user)
            try ChangeLog.record(db, .directory, login: actor.principal.login, detail: HoldingUseCases.detail(login, "user added"), key: key)
            return user
        }
    }

    public func users(today: CalendarDate) async throws -> [UserSummary] {
        try await pool.withConnection { db in
            try db.rows(String.self, "SELECT login FROM users ORDER BY login").map { try Self.user($0, db, today: today) }
        }
    }

    /// Disables or re-enables a user as `decide` decides from the directory under the directory's lock.
    public func setDisabled(_ login: String, by actor: Actor,
                            _ decide: @escaping @Sendable (DirectoryState, Principal) throws -> DisableDecision?) async throws -> UserSummary {
        try await serialised(actor) { db, actor, key in
            guard let d = try decide(try PlanStateLoader.directory(db), actor.principal) else { return try Self.user(login, db, today: actor.today) }
            try db.execute("""
                UPDATE users SET disabled_at = \(timestamp(d.disabled ? actor.recordedAt : nil)), disabled_by = \(d.disabled ? actor.principal.login : nil)
                WHERE login = \(d.login)
                """)
            let after = try Self.user(d.login, db, today: actor.today)
            try AuditLog.record(db, actor, object: d.login, before: ["disabled": !d.disabled], after: ["disabled": after.disabled])
            try ChangeLog.record(db, .directory, login: actor.principal.login, detail: d.detail, key: key)
            return after
        }
    }

    // MARK: posts

    public func addPost(_ name: String, by actor: Actor) async throws -> PostSummary {
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw StoreError.invalid(param: "name", "a post needs a name") }
        return try await serialised(actor) { db, actor, key in
            if let known = try findPost(name, db)?.name {
                throw StoreError.conflict("the post \"\(known)\" already exists" + (known == name ? "" : " (\"\(name)\" is one of its spellings)"),
                                          hint: Hint("post.list", ["post": known]))
            }
            try db.execute("INSERT INTO posts (name) VALUES (\(name))")
            let post = PostSummary(name: name, aliases: [], indicatorCount: 0, taskCount: 0, headOf: [])
            try AuditLog.record(db, actor, object: name, after: post)
            try ChangeLog.record(db, .directory, login: actor.principal.login, detail: HoldingUseCases.detail(name, "post added"), key: key)
            return post
        }
    }

    /// Grants a post as `decide` decides from the directory as it stands under the directory's lock.
    public func grant(by actor: Actor, _ decide: @escaping @Sendable (DirectoryState, Principal) throws -> GrantDecision) async throws -> PostHolding {
        try await serialised(actor) { db, actor, key in
            let d = try decide(try PlanStateLoader.directory(db), actor.principal)
            let id = try db.one(Int.self, """
                INSERT INTO post_holders (user_id, post_id, valid_from, valid_until, granted_by, granted_at)
                VALUES (\(d.userID), \(d.postID), \(d.from), \(d.until), \(actor.principal.login), \(timestamp(actor.recordedAt))) RETURNING id
                """)
            guard let holding = try Self.holdings(db, today: actor.today, where: "h.id = \(id)").first else {
                throw PGError.unexpectedResult("the holding just granted is not there")
            }
            try AuditLog.record(db, actor, object: d.login, after: holding, message: d.message)
            try ChangeLog.record(db, .directory, login: actor.principal.login, detail: d.detail, key: key)
            return holding
        }
    }

    /// Ends holdings as `decide` decides from the directory as it stands under the directory's lock.
    public func revoke(by actor: Actor, _ decide: @escaping @Sendable (DirectoryState, Principal) throws -> RevokeDecision) async throws -> [PostHolding] {
        try await serialised(actor) { db, actor, key in
            let d = try decide(try PlanStateLoader.directory(db), actor.principal)
            let chosen: PGQuery = "h.id = ANY(\(d.holdingIDs)::bigint[])"
            let before = try Self.holdings(db, today: actor.today, where: chosen)
            try db.execute("UPDATE post_holders h SET revoked_by = \(actor.principal.login), revoked_at = \(timestamp(actor.recordedAt)) WHERE \(chosen)")
            let after = before.map { var h = $0; h.revokedBy = actor.principal.login; h.current = false; return h }
            try AuditLog.record(db, actor, object: d.login, before: before, after: after, message: d.message)
            try ChangeLog.record(db, .directory, login: actor.principal.login, detail: d.detail, key: key)
            return after
        }
    }

    /// Holders of `post` today, or with `all` every holding ever granted.
    public func holders(of post: String, all: Bool, today: CalendarDate) async throws -> (post: String, holders: [PostHolding]) {
        try await pool.withConnection { db in
            guard let found = try findPost(post, db) else { throw StoreError.notFound(kind: "post", key: post) }
            let current: PGQuery = all ? "" : " AND \(Self.heldOn(today)) AND u.disabled_at IS NULL"
            return (found.name, try Self.holdings(db, today: today, where: "h.post_id = \(found.id)\(current)"))
        }
    }

    /// Registers each login that is not yet a user and makes sure it holds the admin post
    /// today. Used at start for the administrators named in the configuration.
    public func ensureAdmins(_ admins: [(login: String, name: String)], by actor: Actor) async throws -> [String] {
        try await serialised(actor) { db, actor, key in
            var added: [String] = []
            for admin in admins {
                if try !db.exists("SELECT 1 FROM users WHERE login = \(admin.login)") {
                    try db.execute("""
                        INSERT INTO users (login, name, created_at, created_by)
                        VALUES (\(admin.login), \(admin.name), \(timestamp(actor.recordedAt)), \(actor.principal.login))
                        """)
                }
                let userID = try Self.userID(admin.login, db)
                let holds = try db.exists("""
                    SELECT 1 FROM post_holders h JOIN posts p ON p.id = h.post_id
                    WHERE h.user_id = \(userID) AND p.name = \(Policy.adminPost) AND \(Self.heldOn(actor.today))
                    """)
                guard !holds else { continue }
                try db.execute("UPDATE users SET disabled_at = NULL, disabled_by = NULL WHERE id = \(userID)")
                try db.execute("""
                    INSERT INTO post_holders (user_id, post_id, valid_from, granted_by, granted_at)
                    SELECT \(userID), id, \(actor.today)::date, \(actor.principal.login), \(timestamp(actor.recordedAt)) FROM posts WHERE name = \(Policy.adminPost)
                    """)
                try AuditLog.record(db, actor, object: admin.login, after: ["post": Policy.adminPost],
                                    message: "bootstrap administrator from the daemon's configuration")
                added.append(admin.login)
            }
            // One statement for every change, so the request key is stored once.
            try ChangeLog.record(db, .directory, login: actor.principal.login,
                                 details: added.map { HoldingUseCases.detail($0, "bootstrap administrator") }, key: key)
            return added
        }
    }

    // MARK: helpers

    /// Runs a change by `actor` in a keyed transaction (`PGPool.keyedTransaction`) that holds
    /// the directory's lock, then confirms the actor (`Actor.confirmed`); `body` stores the
    /// request key with its change.
    private func serialised<T: Sendable>(_ actor: Actor,
                                         _ body: @escaping @Sendable (PGConnection, Actor, RequestKey) throws -> T) async throws -> T {
        try await pool.keyedTransaction { db, key in
            try db.execute("SELECT pg_advisory_xact_lock(\(Self.lockKey))")
            return try body(db, try actor.confirmed(db), key)
        }
    }

    static func isPlainAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && text.count <= 254
            && !text.contains(where: { $0.isWhitespace || $0.isNewline || "<>,;:\"()[]\\".contains($0) })
    }

    private static func userID(_ login: String, _ db: PGConnection) throws -> Int {
        guard let id = try db.first(Int.self, "SELECT id FROM users WHERE login = \(login)") else {
            throw StoreError.notFound(kind: "user", key: login)
        }
        return id
    }

    private struct UserRow: Decodable {
        let id: Int
        let name: String
        let email: String?
        let disabled: Bool
    }

    private static func user(_ login: String, _ db: PGConnection, today: CalendarDate) throws -> UserSummary {
        guard let user = try db.first(UserRow.self, """
            SELECT id, name, email, disabled_at IS NOT NULL AS disabled FROM users WHERE login = \(login)
            """) else {
            throw StoreError.notFound(kind: "user", key: login)
        }
        let posts = try holdings(db, today: today, where: "h.user_id = \(user.id) AND h.revoked_at IS NULL")
        return UserSummary(login: login, name: user.name, email: user.email, disabled: user.disabled, posts: posts)
    }

    /// Holdings matching `condition`; "current" is judged on `today`.
    private static func holdings(_ db: PGConnection, today: CalendarDate, where condition: PGQuery) throws -> [PostHolding] {
        try db.rows(PostHolding.self, """
            SELECT u.login, p.name AS post, \(isoDate("h.valid_from")) AS "from", \(isoDate("h.valid_until")) AS until,
                   \(heldOn(today)) AND u.disabled_at IS NULL AS current, h.granted_by, h.revoked_by
            FROM post_holders h JOIN users u ON u.id = h.user_id JOIN posts p ON p.id = h.post_id
            WHERE \(condition) ORDER BY h.valid_from, u.login, p.name, h.id
            """)
    }
}
