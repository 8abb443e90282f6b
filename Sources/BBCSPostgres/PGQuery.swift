/// A statement and its parameters, written by string interpolation:
///
///     let q: PGQuery = "SELECT value FROM figures WHERE indicator_id = \(id) AND period = \(period)"
///
/// sends `... indicator_id = $1 AND period = $2` with `id` and `period` bound by libpq.
/// Every interpolated `PGParameter` becomes a numbered parameter; a value is never part of
/// the text. Two other interpolations add text, each from code, never from input:
/// `\(identifier: name)` a quoted table or column name, and `\(fragment)` another
/// `PGQuery`, whose parameters are renumbered where it lands. The text itself only ever
/// comes from string literals in the source.
public struct PGQuery: Sendable, ExpressibleByStringInterpolation {
    fileprivate enum Piece: Sendable {
        case text(String)
        /// A bound value in PostgreSQL's text format; nil is NULL.
        case value(String?)
    }

    fileprivate var pieces: [Piece]

    public init(stringLiteral literal: String) { pieces = [.text(literal)] }

    public init(stringInterpolation: StringInterpolation) { pieces = stringInterpolation.pieces }

    private init(pieces: [Piece]) { self.pieces = pieces }

    /// The text sent to PostgreSQL, with `$1, $2...` where the values go.
    public var sql: String {
        var sql = "", number = 0
        for piece in pieces {
            switch piece {
            case .text(let text): sql += text
            case .value:
                number += 1
                sql += "$\(number)"
            }
        }
        return sql
    }

    /// The values bound to `$1, $2...`, in order, in PostgreSQL's text format.
    public var values: [String?] {
        var values: [String?] = []
        for case .value(let value) in pieces { values.append(value) }
        return values
    }

    /// The two queries one after the other; `b`'s parameters are numbered after `a`'s.
    public static func + (a: PGQuery, b: PGQuery) -> PGQuery { PGQuery(pieces: a.pieces + b.pieces) }

    public struct StringInterpolation: StringInterpolationProtocol, Sendable {
        fileprivate var pieces: [Piece] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            pieces.reserveCapacity(2 * interpolationCount + 1)
        }

        public mutating func appendLiteral(_ literal: String) { pieces.append(.text(literal)) }

        /// Binds `value` as the next parameter.
        public mutating func appendInterpolation(_ value: some PGParameter) { pieces.append(.value(value.pgText)) }

        /// Binds `value` as the next parameter, NULL when nil.
        public mutating func appendInterpolation<Value: PGParameter>(_ value: Value?) { pieces.append(.value(value?.pgText ?? nil)) }

        /// A table or column name that code chose, double-quoted so it is only ever a name.
        public mutating func appendInterpolation(identifier name: String) { pieces.append(.text(quotedIdentifier(name))) }

        /// Another query's text and parameters, as a part of this one.
        public mutating func appendInterpolation(_ fragment: PGQuery) { pieces += fragment.pieces }
    }
}

extension Sequence where Element == PGQuery {
    /// The queries with `separator` between them, e.g. a list of assignments or conditions.
    public func joined(separator: PGQuery) -> PGQuery {
        var joined: PGQuery = ""
        for (n, part) in enumerated() { joined = n == 0 ? part : joined + separator + part }
        return joined
    }
}

/// `name` as a double-quoted SQL identifier: `odd "name` → `"odd ""name"`.
func quotedIdentifier(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
