@testable import BBCSServer
import BBCSCore
import BBCSPostgres
import BBCSProtocol
import Foundation
import Logging
import Testing

@Suite("the method list")
struct MethodListTests {
    /// The daemon's table over a pool that never connects (nothing here runs a handler).
    static let table = MethodTable.withoutDatabase(logger: Logger(label: "test"))

    /// A result encoded ahead (the kept report) makes the same reply line as the envelope.
    @Test(arguments: [RequestID.number(7), .string("a\"b/c"), .null])
    func anEncodedResultMakesTheEnvelopesLine(_ id: RequestID) throws {
        let result = ["period": "2025/26 Q2", "plan": "CS"]
        let json = try WireCoding.encoder().encode(result)
        let line = try MethodTable.resultLine(id: id, json: json)
        #expect(line == (try WireCoding.encoder().encode(ResultEnvelope(id: id, result: result))))
    }

    @Test func theDaemonRegistersExactlyTheProtocolsMethods() {
        let listed = builtinRequests.map { $0.method }
        #expect(Set(listed).count == listed.count, "a method is listed twice")
        #expect(Self.table.methods.map(\.name).sorted() == listed.sorted())
        for info in Self.table.methods {
            #expect(info == builtinRequests.first { $0.method == info.name }.map { MethodInfo($0) })
        }
    }

    @Test(arguments: builtinRequests.map { $0.method })
    func declaredParametersAreTheKeysDecoded(_ method: String) throws {
        let type = try #require(builtinRequests.first { $0.method == method })
        let decoded = try KeyRecorder.keys(decoding: type)
        let declared = Dictionary(uniqueKeysWithValues: type.parameters.map { ($0.name, $0) })
        #expect(Set(decoded.keys) == Set(declared.keys), "\(method) decodes \(decoded.keys.sorted()), declares \(declared.keys.sorted())")
        for (name, required) in decoded {
            #expect(declared[name]?.required == required, "\(method).\(name): decoded as \(required ? "required" : "optional")")
        }
    }
}

/// A decoder that records which top-level keys a type asks for and whether it requires them,
/// answering required ones with a sample of their declared type and optional ones with nothing.
struct KeyRecorder {
    final class Log { var keys: [String: Bool] = [:] }

    static func keys<R: RequestType>(decoding type: R.Type) throws -> [String: Bool] {
        let log = Log()
        let samples = Dictionary(uniqueKeysWithValues: R.parameters.map { ($0.name, sample(of: $0.type)) })
        _ = try R(from: TopDecoder(log: log, samples: samples))
        return log.keys
    }

    /// A valid value for each type `system.describe` names.
    static func sample(of type: String) -> String {
        switch type {
        case "period": return "2025/26 Q2"
        case "date": return "2025-06-30"
        case "integer": return "1"
        case "number": return "1.5"
        case "boolean": return "true"
        default: return "x"
        }
    }

    struct Unsupported: Error { let what: String }

    struct TopDecoder: Decoder {
        let log: Log
        let samples: [String: String]
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }
        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            KeyedDecodingContainer(Keyed<Key>(log: log, samples: samples))
        }
        func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw Unsupported(what: "a request that is an array") }
        func singleValueContainer() throws -> any SingleValueDecodingContainer { throw Unsupported(what: "a request that is one value") }
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let log: Log
        let samples: [String: String]
        var codingPath: [any CodingKey] { [] }
        var allKeys: [Key] { [] }

        func contains(_ key: Key) -> Bool {
            log.keys[key.stringValue] = log.keys[key.stringValue] ?? false
            return false
        }
        func decodeNil(forKey key: Key) throws -> Bool { _ = contains(key); return true }
        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
            log.keys[key.stringValue] = log.keys[key.stringValue] ?? false
            return nil
        }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            log.keys[key.stringValue] = true
            guard let sample = samples[key.stringValue] else {
                throw DecodingError.keyNotFound(key, .init(codingPath: [], debugDescription: "required but not declared"))
            }
            return try T(from: Sample(text: sample))
        }
        func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) throws -> KeyedDecodingContainer<N> {
            throw Unsupported(what: "nested parameters")
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { throw Unsupported(what: "array parameters") }
        func superDecoder() throws -> any Decoder { throw Unsupported(what: "super") }
        func superDecoder(forKey key: Key) throws -> any Decoder { throw Unsupported(what: "super") }
    }

    /// One sample value, read as whatever the parameter's type asks for.
    struct Sample: Decoder, SingleValueDecodingContainer {
        let text: String
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }
        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> { throw Unsupported(what: "object") }
        func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw Unsupported(what: "array") }
        func singleValueContainer() throws -> any SingleValueDecodingContainer { self }
        func decodeNil() -> Bool { false }
        func decode(_ type: Bool.Type) throws -> Bool { text == "true" }
        func decode(_ type: String.Type) throws -> String { text }
        func decode(_ type: Double.Type) throws -> Double { try number(Double(text)) }
        func decode(_ type: Float.Type) throws -> Float { try number(Float(text)) }
        func decode(_ type: Int.Type) throws -> Int { try number(Int(text)) }
        func decode(_ type: Int8.Type) throws -> Int8 { try number(Int8(text)) }
        func decode(_ type: Int16.Type) throws -> Int16 { try number(Int16(text)) }
        func decode(_ type: Int32.Type) throws -> Int32 { try number(Int32(text)) }
        func decode(_ type: Int64.Type) throws -> Int64 { try number(Int64(text)) }
        func decode(_ type: UInt.Type) throws -> UInt { try number(UInt(text)) }
        func decode(_ type: UInt8.Type) throws -> UInt8 { try number(UInt8(text)) }
        func decode(_ type: UInt16.Type) throws -> UInt16 { try number(UInt16(text)) }
        func decode(_ type: UInt32.Type) throws -> UInt32 { try number(UInt32(text)) }
        func decode(_ type: UInt64.Type) throws -> UInt64 { try number(UInt64(text)) }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: self) }
        private func number<N>(_ value: N?) throws -> N {
            guard let value else { throw Unsupported(what: "\"\(text)\" as a number: declare the parameter's type") }
            return value
        }
    }
}
