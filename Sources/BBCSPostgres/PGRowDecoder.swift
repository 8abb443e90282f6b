import Foundation

/// Reads one row: each key names a column (see `PGResult.decode(_:)`).
struct PGRowDecoder: Decoder {
    let result: PGResult
    let row: Int
    /// The row struct's name, for messages.
    let rowType: String

    var codingPath: [CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(PGRowContainer<Key>(decoder: self))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        throw PGError.unexpectedResult("\(rowType): a row is read by column name, not as a list")
    }

    /// A row type that is one value (Int, String, Period...) reads a one-column result.
    func singleValueContainer() throws -> SingleValueDecodingContainer {
        guard result.columnCount == 1 else {
            throw PGError.unexpectedResult("\(rowType): a row read as one value needs one column, not \(result.columnCount)")
        }
        return PGValueDecoder(value: result.value(row: row, column: 0))
    }

    func value(_ key: CodingKey) throws -> PGValue {
        let name = snakeCase(key.stringValue)
        guard let column = result.column(named: name) else {
            throw PGError.unexpectedResult("\(rowType): the result has no column \"\(name)\"")
        }
        return result.value(row: row, column: column)
    }
}

/// The columns of one row by key. Every key is "contained", so an optional property whose
/// column is missing from the SELECT is an error, not a silent nil.
private struct PGRowContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: PGRowDecoder

    var codingPath: [CodingKey] { [] }
    // Columns are snake_case and keys camelCase: no key can be listed from the row alone.
    var allKeys: [Key] { [] }

    func contains(_ key: Key) -> Bool { true }
    func decodeNil(forKey key: Key) throws -> Bool { try decoder.value(key).text == nil }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decoder.value(key).read(type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decoder.value(key).read(type) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decoder.value(key).read(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decoder.value(key).read(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decoder.value(key).read(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decoder.value(key).read(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decoder.value(key).read(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decoder.value(key).read(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decoder.value(key).read(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decoder.value(key).read(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decoder.value(key).read(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decoder.value(key).read(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decoder.value(key).read(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decoder.value(key).read(type) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try decoder.value(key).read(type) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        throw PGError.unexpectedResult("\(decoder.rowType): column \"\(snakeCase(key.stringValue))\" is read as one value")
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try PGValueDecoder(value: decoder.value(key)).unkeyedContainer()
    }

    /// The same row: a row struct may decode a part of itself (a Core record) from its columns.
    func superDecoder() throws -> Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> Decoder { decoder }
}

/// One value of a result (a column of a row, or an element of an array column).
struct PGValue {
    enum Kind { case scalar, json, array }

    /// The column's name (with the element's index for an array's element), for messages.
    let column: String
    /// PostgreSQL's text format of the value; nil is NULL.
    let text: String?
    let kind: Kind

    func read<T: Decodable>(_ type: T.Type) throws -> T {
        if let scalar = try scalar(type) { return scalar }
        do {
            if kind == .json, let text { return try JSONDecoder().decode(T.self, from: Data(text.utf8)) }
            return try T(from: PGValueDecoder(value: self))
        } catch is DecodingError {
            throw PGError.unexpectedResult("column \"\(column)\" does not hold a \(T.self)")
        }
    }

    /// The value as Bool, String, a number or another type written as plain text; nil for other types.
    private func scalar<T>(_ type: T.Type) throws -> T? {
        let parse: ((String) -> Any?)?
        if T.self == Bool.self {
            parse = { $0 == "t" ? true : $0 == "f" ? false : nil }
        } else if let convertible = T.self as? LosslessStringConvertible.Type {
            parse = { convertible.init($0) }
        } else {
            parse = nil
        }
        guard let parse else { return nil }
        guard let text else { throw PGError.unexpectedResult("column \"\(column)\" is null, and \(T.self) is not optional") }
        guard let value = parse(text) as? T else { throw PGError.unexpectedResult("column \"\(column)\" does not hold a \(T.self)") }
        return value
    }

    /// The elements of a one-dimensional array value.
    func elements() throws -> [PGValue] {
        guard kind == .array, let text, let items = parseArray(text) else {
            throw PGError.unexpectedResult("column \"\(column)\" does not hold a one-dimensional array")
        }
        return items.enumerated().map { PGValue(column: "\(column)[\($0.offset + 1)]", text: $0.element, kind: .scalar) }
    }
}

/// Containers that read every type of value the same way.
private protocol PGValueReader {
    func read<T: Decodable>(_ type: T.Type) throws -> T
}

extension PGValueReader {
    func decode(_ type: Bool.Type) throws -> Bool { try read(type) }
    func decode(_ type: String.Type) throws -> String { try read(type) }
    func decode(_ type: Double.Type) throws -> Double { try read(type) }
    func decode(_ type: Float.Type) throws -> Float { try read(type) }
    func decode(_ type: Int.Type) throws -> Int { try read(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try read(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try read(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try read(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try read(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try read(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try read(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try read(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try read(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try read(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try read(type) }
}

/// Decodes one value: as itself (a single value) or, for an array, as its elements.
private struct PGValueDecoder: Decoder, SingleValueDecodingContainer, PGValueReader {
    let value: PGValue

    var codingPath: [CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        throw PGError.unexpectedResult("column \"\(value.column)\" is one value, not a record (select json for a record)")
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer { PGElements(try value.elements()) }
    func singleValueContainer() throws -> SingleValueDecodingContainer { self }

    func decodeNil() -> Bool { value.text == nil }
    func read<T: Decodable>(_ type: T.Type) throws -> T { try value.read(type) }
}

/// The elements of an array value, in order.
private final class PGElements: UnkeyedDecodingContainer, PGValueReader {
    private let items: [PGValue]
    private(set) var currentIndex = 0

    init(_ items: [PGValue]) { self.items = items }

    var codingPath: [CodingKey] { [] }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    func decodeNil() throws -> Bool {
        guard try next().text == nil else {
            currentIndex -= 1
            return false
        }
        return true
    }

    func read<T: Decodable>(_ type: T.Type) throws -> T { try next().read(type) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try PGValueDecoder(value: next()).container(keyedBy: type)
    }

    func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer { try PGValueDecoder(value: next()).unkeyedContainer() }
    func superDecoder() throws -> Decoder { PGValueDecoder(value: try next()) }

    private func next() throws -> PGValue {
        guard !isAtEnd else { throw PGError.unexpectedResult("an array has fewer elements than its type needs") }
        defer { currentIndex += 1 }
        return items[currentIndex]
    }
}

/// `indicatorID` → `indicator_id`, `HTMLBody` → `html_body`, `postIDs` → `post_ids`: a
/// coding key's column name.
func snakeCase(_ key: String) -> String {
    let characters = Array(key)
    func isLower(_ n: Int) -> Bool { n < characters.count && characters[n].isLowercase }
    var name = ""
    for (n, character) in characters.enumerated() {
        if character.isUppercase, n > 0 {
            let previous = characters[n - 1]
            let startsWord = previous.isLowercase || previous.isNumber
            // The last capital of an acronym starts the next word, unless what follows is a plural "s".
            let plural = n + 1 < characters.count && characters[n + 1] == "s" && !isLower(n + 2)
            let endsAcronym = previous.isUppercase && isLower(n + 1) && !plural
            if startsWord || endsAcronym { name += "_" }
        }
        name += character.lowercased()
    }
    return name
}

/// The elements of a one-dimensional array in PostgreSQL's text format (`{1,2}`,
/// `{"a b",NULL}`); nil when the text is not one.
func parseArray(_ text: String) -> [String?]? {
    guard text.first == "{", text.last == "}" else { return nil }
    let body = text.dropFirst().dropLast()
    if body.isEmpty { return [] }
    var items: [String?] = []
    var item = "", quoted = false, inQuotes = false, escaped = false
    func finish() -> Bool {
        if !quoted && item.isEmpty { return false }
        items.append(!quoted && item.uppercased() == "NULL" ? nil : item)
        item = ""
        quoted = false
        return true
    }
    for character in body {
        if escaped {
            item.append(character)
            escaped = false
        } else if character == "\\" {
            escaped = true
        } else if character == "\"" {
            inQuotes.toggle()
            quoted = true
        } else if inQuotes {
            item.append(character)
        } else if character == "," {
            guard finish() else { return nil }
        } else if character == "{" || character == "}" {
            return nil  // a nested array
        } else {
            item.append(character)
        }
    }
    guard !inQuotes, !escaped, finish() else { return nil }
    return items
}
