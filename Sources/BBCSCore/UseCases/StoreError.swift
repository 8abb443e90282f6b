/// Refusals that are about the request, not the database: the use cases decide them from the
/// state they are given, the stores answer them when a lookup finds nothing. (A refusal on
/// permission is `Denial`; a rule a value breaks is `FigureRuleViolation`.)
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No object of `kind` is known by `key`.
    case notFound(kind: String, key: String)
    /// The change does not fit the state it met; `hint` names the method to call instead
    /// and its parameters.
    case conflict(String, hint: Hint?)
    /// A parameter is not acceptable.
    case invalid(param: String, String)

    public var description: String {
        switch self {
        case .notFound(let kind, let key): return "no \(kind) \"\(key)\""
        case .conflict(let message, _): return message
        case .invalid(_, let message): return message
        }
    }

    /// A code two or more plans use, named without its plan.
    public static func ambiguous(kind: String, code: String, plans: [String]) -> StoreError {
        .invalid(param: "code", "\(kind) \(code) is in \(plans.count) plans: name it as \(plans.map { "\($0):\(code)" }.joined(separator: " or "))")
    }
}
