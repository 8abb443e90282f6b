import Foundation

/// JSON decoding that also refuses keys the type does not know, so a misspelt field in a
/// data file is an error rather than silently dropped, and text holding a NUL, which the
/// database would cut short without a word.
public enum StrictJSON {
    public static func decode<T: Codable>(_ type: T.Type, from data: Data) throws -> T {
        let value = try JSONDecoder().decode(T.self, from: data)
        let original = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        if let path = firstNUL(original, path: []) {
            throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "contains a NUL character, which no text may hold"))
        }
        // What the type keeps of the input is what it encodes back; any other key is unknown.
        let kept = try JSONSerialization.jsonObject(with: JSONEncoder().encode(value), options: [.fragmentsAllowed])
        if let path = firstUnknownKey(original, kept, path: []) {
            throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "is not a known field"))
        }
        return value
    }

    private static func firstNUL(_ value: Any, path: [PathKey]) -> [PathKey]? {
        if let text = value as? String { return text.utf8.contains(0) ? path : nil }
        if let object = value as? [String: Any] {
            for (key, value) in object.sorted(by: { $0.key < $1.key }) {
                let at = path + [PathKey(stringValue: key)]
                if key.utf8.contains(0) { return at }
                if let found = firstNUL(value, path: at) { return found }
            }
        } else if let array = value as? [Any] {
            for (index, element) in array.enumerated() {
                if let found = firstNUL(element, path: path + [PathKey(intValue: index)]) { return found }
            }
        }
        return nil
    }

    private static func firstUnknownKey(_ original: Any, _ kept: Any, path: [PathKey]) -> [PathKey]? {
        if let object = original as? [String: Any] {
            let keptObject = kept as? [String: Any] ?? [:]
            for key in object.keys.sorted() {
                guard let keptValue = keptObject[key] else {
                    if object[key] is NSNull { continue }  // an optional given as null
                    return path + [PathKey(stringValue: key)]
                }
                if let value = object[key], let found = firstUnknownKey(value, keptValue, path: path + [PathKey(stringValue: key)]) { return found }
            }
        } else if let array = original as? [Any], let keptArray = kept as? [Any] {
            for (index, element) in array.enumerated() where index < keptArray.count {
                if let found = firstUnknownKey(element, keptArray[index], path: path + [PathKey(intValue: index)]) { return found }
            }
        }
        return nil
    }

    /// A name for a Swift type in an error meant for people.
    public static func describe(_ type: Any.Type) -> String {
        let name = String(describing: type)
        switch name {
        case "String": return "text"
        case "Int", "Double", "Optional<Double>", "Optional<Int>": return "a number"
        case "Bool": return "true or false"
        default:
            if name.hasPrefix("Array") { return "a list" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "an object"
        }
    }

    struct PathKey: CodingKey {
        var stringValue: String
        var intValue: Int?
        init(stringValue: String) { self.stringValue = stringValue }
        init(intValue: Int) {
            self.stringValue = "\(intValue)"
            self.intValue = intValue
        }
    }
}
