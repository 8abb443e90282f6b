/// What a refused or conflicting request could do instead: the protocol method to call and
/// the parameters a client needs to write that call for a person (e.g. `figure.correct`
/// with `code` and `period`). The daemon answers it in the error's `data`, next to a plain
/// message; the words "run: bbcsctl ..." are the client's to write.
public struct Hint: Sendable, Equatable {
    /// A protocol method name, e.g. "figure.history".
    public var method: String
    /// Parameters of that method, named as the method names them.
    public var parameters: [String: String]

    public init(_ method: String, _ parameters: [String: String] = [:]) {
        self.method = method
        self.parameters = parameters
    }

    /// The error data that carries it: `hint` is the method, the parameters sit beside it.
    public var data: [String: String] { parameters.merging(["hint": method]) { _, method in method } }
}
