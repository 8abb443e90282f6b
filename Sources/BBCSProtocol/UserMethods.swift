import BBCSCore

public struct UserAddRequest: RequestType {
    public static let method = "user.add"
    public static let summary = "Register a Unix account as a bbcs user."
    public static let parameters = [
        ParameterInfo("login", "string", required: true, "the Unix login; the account must exist on the daemon's host"),
        ParameterInfo("name", "string", "full name (default: the account's GECOS name)"),
        ParameterInfo("email", "string", maxLength: 254, "where reminders are mailed"),
    ]
    public static let access = Access.admin
    public static let mutates = true
    public var login: String
    public var name: String?
    public var email: String?
    public init(login: String, name: String? = nil, email: String? = nil) { self.login = login; self.name = name; self.email = email }
    public typealias Response = UserSummary
}

public struct UserListRequest: RequestType {
    public static let method = "user.list"
    public static let summary = "Registered users with the posts they hold; e-mail addresses only to administrators and to each user for themself."
    public static let parameters: [ParameterInfo] = []
    public static let access = Access.registered
    public init() {}
    public struct Response: Codable, Sendable, Equatable {
        public var users: [UserSummary]
        public init(users: [UserSummary]) { self.users = users }
    }
}

public struct UserDisableRequest: RequestType {
    public static let method = "user.disable"
    public static let summary = "Disable a user: kept for history, with no rights. The last administrator cannot be disabled."
    public static let parameters = [ParameterInfo("login", "string", required: true, "the user")]
    public static let access = Access.admin
    public static let mutates = true
    public var login: String
    public init(login: String) { self.login = login }
    public typealias Response = UserSummary
}

public struct UserEnableRequest: RequestType {
    public static let method = "user.enable"
    public static let summary = "Give a disabled user their rights back."
    public static let parameters = [ParameterInfo("login", "string", required: true, "the user")]
    public static let access = Access.admin
    public static let mutates = true
    public var login: String
    public init(login: String) { self.login = login }
    public typealias Response = UserSummary
}
