/// A grant decided: who is to hold which post, from when until when.
public struct GrantDecision: Sendable, Equatable {
    public var userID: Int
    public var login: String
    public var postID: Int
    public var post: String
    public var from: CalendarDate
    public var until: CalendarDate?
    /// The audit row's message and the `directory` change's detail.
    public var message: String
    public var detail: JSONValue
}

/// A revoke decided: the holdings to end.
public struct RevokeDecision: Sendable, Equatable {
    public var login: String
    public var post: String
    public var holdingIDs: [Int]
    public var message: String
    public var detail: JSONValue
}

/// A user disabled or enabled.
public struct DisableDecision: Sendable, Equatable {
    public var login: String
    public var disabled: Bool
    public var detail: JSONValue
}

/// Granting and revoking posts, disabling users: administrators only; someone must go on administering.
/// Decided from the directory as it stands under the directory's lock.
public enum HoldingUseCases {
    /// Lets `login` hold `post` from `from` (default today) until `until` (inclusive; nil is open-ended).
    public static func grant(_ principal: Principal, _ directory: DirectoryState, login: String, post name: String, from: CalendarDate?,
                             until: CalendarDate?, today: CalendarDate) throws -> GrantDecision {
        if let denial = Policy.check(.admin, principal) { throw denial }
        let from = from ?? today
        if let until, until < from {
            throw StoreError.invalid(param: "until", "the holding would end (\(until)) before it begins (\(from))")
        }
        let (user, post) = try find(directory, login: login, post: name)
        let overlaps = user.holdings.contains { h in
            h.postID == post.id && !h.revoked && h.from <= (until ?? .distantFuture) && (h.until ?? .distantFuture) >= from
        }
        if overlaps {
            throw StoreError.conflict("\(login) already holds \"\(name)\" for some of those days",
                                      hint: Hint("post.holders", ["post": name, "all": "true"]))
        }
        let message = "granted \(post.name)"
        return GrantDecision(userID: user.id, login: user.login, postID: post.id, post: post.name, from: from, until: until,
                             message: message, detail: detail(user.login, message))
    }

    /// Ends every holding of `post` by `login` that has not ended. Removing the last
    /// administrator without an end date is a conflict.
    public static func revoke(_ principal: Principal, _ directory: DirectoryState, login: String, post name: String,
                              today: CalendarDate) throws -> RevokeDecision {
        if let denial = Policy.check(.admin, principal) { throw denial }
        let (user, post) = try find(directory, login: login, post: name)
        let open = user.holdings.filter { $0.postID == post.id && !$0.revoked && $0.until.map { $0 >= today } != false }
        guard !open.isEmpty else { throw StoreError.notFound(kind: "holding of \"\(name)\" by", key: login) }
        var after = directory
        after.users[user.login]?.holdings = user.holdings.map { h in
            var h = h
            if open.contains(where: { $0.id == h.id }) { h.revoked = true }
            return h
        }
        if after.permanentAdministrators(today: today) == 0 {
            throw StoreError.conflict("revoking \(post.name) from \(login) would leave no administrator without an end date",
                                      hint: Hint("post.grant", ["post": Policy.adminPost]))
        }
        let message = "revoked \(post.name)"
        return RevokeDecision(login: user.login, post: post.name, holdingIDs: open.map(\.id), message: message,
                              detail: detail(user.login, message))
    }

    /// Disables or re-enables `login`: nil when it is so already. Disabling the last
    /// administrator without an end date is a conflict.
    public static func setDisabled(_ principal: Principal, _ directory: DirectoryState, login: String, disabled: Bool,
                                   today: CalendarDate) throws -> DisableDecision? {
        if let denial = Policy.check(.admin, principal) { throw denial }
        guard let user = directory.users[login] else { throw StoreError.notFound(kind: "user", key: login) }
        guard user.disabled != disabled else { return nil }
        var after = directory
        after.users[login]?.disabled = disabled
        if disabled && after.permanentAdministrators(today: today) == 0 {
            throw StoreError.conflict("disabling \(login) would leave no administrator without an end date",
                                      hint: Hint("post.grant", ["post": Policy.adminPost]))
        }
        return DisableDecision(login: login, disabled: disabled, detail: detail(login, disabled ? "disabled" : "enabled"))
    }

    private static func find(_ directory: DirectoryState, login: String, post name: String) throws
        -> (DirectoryState.User, (id: Int, name: String)) {
        guard let user = directory.users[login] else { throw StoreError.notFound(kind: "user", key: login) }
        guard let post = directory.post(named: name) else { throw StoreError.notFound(kind: "post", key: name) }
        return (user, post)
    }

    /// The `directory` change's detail.
    public static func detail(_ object: String, _ message: String) -> JSONValue {
        .object(["object": .string(object), "message": .string(message)])
    }
}

extension DirectoryState {
    /// Active users holding the admin post today with no end date: cover that ends does not count.
    public func permanentAdministrators(today: CalendarDate) -> Int {
        users.values.filter { user in
            !user.disabled && user.holdings.contains { $0.post == Policy.adminPost && $0.held(on: today) && $0.until == nil }
        }.count
    }
}

extension CalendarDate {
    /// Later than any date a holding names: an open end.
    static let distantFuture = CalendarDate(year: 999_999, month: 12, day: 31)
}
