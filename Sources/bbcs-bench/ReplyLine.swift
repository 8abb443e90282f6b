import Foundation

/// What a reply line says, read without decoding it: whether its top-level object has an
/// `error` member (a result can be megabytes; this stops at the first top-level key that
/// tells).
enum ReplyLine {
    static func isError(_ line: ArraySlice<UInt8>) -> Bool {
        var depth = 0
        var index = line.startIndex
        while index < line.endIndex {
            switch line[index] {
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: "\""):
                let keyStart = index + 1
                index = keyStart
                while index < line.endIndex && line[index] != UInt8(ascii: "\"") {
                    index += line[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard depth == 1, index < line.endIndex else { break }
                let key = line[keyStart..<index]
                if key.elementsEqual("error".utf8) { return true }
                if key.elementsEqual("result".utf8) { return false }
            default: break
            }
            index += 1
        }
        return true
    }
}
