import BBCSProtocol

/// What to do about a refusal, for people: the daemon answers the method its `hint` names and
/// the values it knows (`data`); the command line is written here.
enum HintCommand {
    /// The line printed under a refusal's message, e.g.
    /// `run: bbcsctl figure correct ComS_011 "2025/26 Q2" VALUE --reason TEXT`; nil without a hint.
    static func line(for error: ResponseError) -> String? {
        guard let method = error.data?["hint"] else { return nil }
        let data = error.data ?? [:]
        func value(_ key: String, _ placeholder: String) -> String {
            guard let text = data[key], !text.isEmpty else { return placeholder }
            return text.contains(" ") ? "\"\(text)\"" : text
        }
        let code = value("code", "CODE"), period = value("period", "PERIOD")
        let command: String
        switch method {
        case "figure.submit": command = "figure submit \(code) \(period) VALUE [--note TEXT]"
        case "figure.correct": command = "figure correct \(code) \(period) VALUE --reason TEXT"
        case "figure.history": command = "figure history \(code)" + (data["period"] == nil ? "" : " --period \(period)")
        case "user.add": command = "user add \(value("login", "LOGIN"))"
        case "user.list": command = "user list"
        case "post.list": command = "posts"
        case "post.holders": command = "post holders \(value("post", "POST"))" + (data["all"] == "true" ? " --all" : "")
        case "post.grant": command = "post grant LOGIN \(value("post", "POST"))"
        default:
            // A method this client has no words for: name it as the protocol does.
            command = method.replacingOccurrences(of: ".", with: " ")
        }
        // Only an administrator can register a caller the daemon does not know.
        let who = error.code == .unauthenticated ? "ask an administrator to run" : "run"
        return "\(who): bbcsctl \(command)"
    }
}
