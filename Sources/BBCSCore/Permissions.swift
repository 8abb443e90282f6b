/// Who may call a method.
public enum Access: String, Codable, Sendable {
    /// Anyone who can connect, registered or not.
    case anyone
    /// Every registered user.
    case registered
    /// Holders of the post that owns the object, and administrators.
    case owner
    /// Administrators only.
    case admin
}

/// The caller as the permission policy sees them: the kernel's identity and what the
/// database says about that login today.
public struct Principal: Sendable, Equatable {
    public enum Standing: Sendable, Equatable {
        /// No user with this login.
        case unregistered
        /// A user kept for history, with no rights.
        case disabled
        case active
    }

    public var login: String
    public var uid: UInt32
    public var pid: Int32
    public var standing: Standing
    /// Posts held today (cover that has ended or not yet begun is left out).
    public var posts: [String]
    /// The daemon itself (not a user of the database).
    public var isDaemon = false

    public init(login: String, uid: UInt32, pid: Int32, standing: Standing, posts: [String]) {
        self.login = login; self.uid = uid; self.pid = pid; self.standing = standing; self.posts = posts
    }

    public var isAdmin: Bool { standing == .active && posts.contains(Policy.adminPost) }

    /// The daemon itself, acting at start (bootstrap admins, first plan import).
    public static func daemon(uid: UInt32, pid: Int32) -> Principal {
        var daemon = Principal(login: "bbcsd", uid: uid, pid: pid, standing: .active, posts: [Policy.adminPost])
        daemon.isDaemon = true
        return daemon
    }
}

/// Why a request was refused: answered `unauthenticated` or `permission_denied` and audited.
public struct Denial: Error, Sendable, Equatable, CustomStringConvertible {
    public var unauthenticated: Bool
    public var message: String
    /// What was missing, e.g. "post:Licensing Manager" or "admin".
    public var missing: String
    /// The method that would remedy the refusal, if one would.
    public var hint: Hint?

    public init(unauthenticated: Bool = false, _ message: String, missing: String, hint: Hint? = nil) {
        self.unauthenticated = unauthenticated; self.message = message; self.missing = missing; self.hint = hint
    }

    public var description: String { message }
}

/// The permission model: who may do what, decided from the principal alone.
public enum Policy {
    /// The post whose holders administer users, posts and the plan.
    public static let adminPost = "admin"

    /// Whether `principal` may call a method needing `access`. `.owner` methods pass here
    /// for every active user; the object's owner is checked with `mayChange(ownedBy:)`.
    public static func check(_ access: Access, _ principal: Principal) -> Denial? {
        if access == .anyone { return nil }
        switch principal.standing {
        case .unregistered:
            return Denial(unauthenticated: true, "\(principal.login) (uid \(principal.uid)) is not a registered bbcs user",
                          missing: "registration", hint: Hint("user.add", ["login": principal.login]))
        case .disabled:
            return Denial("the bbcs account \(principal.login) is disabled", missing: "active account")
        case .active:
            if access == .admin && !principal.isAdmin {
                return Denial("only administrators (holders of the \"\(adminPost)\" post) may do this", missing: "post:\(adminPost)")
            }
            return nil
        }
    }

    /// Whether `principal` may read `login`'s e-mail address: administrators, and the user themself.
    public static func mayReadEmail(of login: String, _ principal: Principal) -> Bool {
        principal.isAdmin || (principal.standing == .active && principal.login == login)
    }

    /// Whether `principal` may change an object owned by any of `posts` (figures of an
    /// indicator: its owner post; a task: its responsible posts).
    public static func mayChange(ownedBy posts: [String], what: String, _ principal: Principal) -> Denial? {
        if let denial = check(.registered, principal) { return denial }
        if principal.isAdmin || posts.contains(where: principal.posts.contains) { return nil }
        let names = posts.map { "\"\($0)\"" }.joined(separator: " or ")
        return Denial("\(what) may be changed by holders of \(names) and administrators; \(principal.login) holds "
                      + (principal.posts.isEmpty ? "no post" : principal.posts.map { "\"\($0)\"" }.joined(separator: ", ")),
                      missing: posts.map { "post:\($0)" }.joined(separator: "|"))
    }
}
