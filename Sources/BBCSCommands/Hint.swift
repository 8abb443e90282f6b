import BBCSProtocol

/// The command line that does what a refusal's `hint` names: the daemon answers a method
/// and the values it knows (`data`), and the words for people are written here.
enum Hint {
    /// "bbcsctl figure correct ComS_011 "2025/26 Q2" VALUE --reason TEXT" for a `figure.correct` hint.
    static func command(for error: ResponseError) -> String? {
        guard let method = error.data?["hint"] else { return nil }
        let data = error.data ?? [:]
        func value(_ key: String, _ placeholder: String) -> String {
            guard let text = data[key], !text.isEmpty else { return placeholder }
            return text.contains(" ") ? "\"\(text)\"" : text
        }
        let code = value("code", "CODE"), period = value("period", "PERIOD")
        let words: String
        switch method {
        case "figure.submit": words = "figure submit \(code) \(period) VALUE [--note TEXT]"
        case "figure.correct": words = "figure correct \(code) \(period) VALUE --reason TEXT"
        case "figure.history": words = "figure history \(code)" + (data["period"] == nil ? "" : " --period \(period)")
        case "user.add": words = "user add \(value("login", "LOGIN"))"
        case "user.list": words = "user list"
        case "post.list": words = "posts"
        case "post.holders": words = "post holders \(value("post", "POST")) --all"
        case "post.grant": words = "post grant LOGIN \(value("post", "POST"))"
        default:
            // A method this client has no words for: name it as the protocol does.
            words = method.replacingOccurrences(of: ".", with: " ")
        }
        return "bbcsctl " + words
    }
}
