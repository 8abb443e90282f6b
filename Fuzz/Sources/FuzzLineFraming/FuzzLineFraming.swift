// The frame decoder against a model of it. An input is
//   [cap] [n] [n write sizes] [stream...]
// a line cap of 1...256 bytes, then the sizes of the writes the stream arrives in, cycled
// (0 is 1 byte), and after 16 writes the rest in one (each write costs the unoptimised,
// instrumented NIO a lot). The model: the stream split at each `\n`; every complete line up
// to the cap comes out whole, in order, one trailing `\r` dropped; the first line over the
// cap (counting its `\r`, with or without its newline) is LineTooLong after the lines before
// it and nothing after; at end of input an unfinished line is still a line.
@testable import BBCSServer
import CLibFuzzer
import NIOCore
import NIOEmbedded

struct Input {
    let cap: Int
    let pieces: [Int]
    let stream: [UInt8]

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        var rest = bytes[...]
        cap = Int(rest.popFirst() ?? 0) + 1
        let count = Int(rest.popFirst() ?? 0) % 16
        pieces = (0..<count).compactMap { _ in rest.popFirst().map { max(Int($0), 1) } }
        stream = Array(rest)
    }

    /// What the decoder must deliver, and whether it must then refuse a line.
    var expected: (lines: [[UInt8]], tooLong: Bool) {
        var lines: [[UInt8]] = []
        var parts = stream.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let unfinished = parts.removeLast()
        for part in parts {
            guard part.count <= cap else { return (lines, true) }
            lines.append(Self.droppingCarriageReturn(part))
        }
        guard unfinished.count <= cap else { return (lines, true) }
        if !unfinished.isEmpty { lines.append(Self.droppingCarriageReturn(unfinished)) }
        return (lines, false)
    }

    static func droppingCarriageReturn(_ line: ArraySlice<UInt8>) -> [UInt8] {
        Array(line.last == UInt8(ascii: "\r") ? line.dropLast() : line)
    }
}

func check(_ input: Input) {
    let channel = EmbeddedChannel(handler: ByteToMessageHandler(LineFraming.Decoder(maxLength: input.cap)))
    var lines: [[UInt8]] = []
    func drain() {
        while let line = try! channel.readInbound(as: ByteBuffer.self) { lines.append(Array(line.readableBytesView)) }
    }
    var refused = false
    var offset = 0
    var piece = 0
    while offset < input.stream.count && !refused {
        let size = input.pieces.isEmpty || piece >= 16 ? input.stream.count : input.pieces[piece % input.pieces.count]
        let end = min(offset + size, input.stream.count)
        do {
            try channel.writeInbound(ByteBuffer(bytes: input.stream[offset..<end]))
        } catch is LineFraming.LineTooLong {
            refused = true
        } catch {
            fatalError("the decoder threw \(error)")
        }
        drain()
        offset = end
        piece += 1
    }
    // End of input, refused or not: a refused line must not come out at the close either.
    do { _ = try channel.finish(acceptAlreadyClosed: true) } catch is LineFraming.LineTooLong { refused = true } catch {
        fatalError("finishing threw \(error)")
    }
    drain()
    let expected = input.expected
    guard lines == expected.lines, refused == expected.tooLong else {
        let differing = zip(lines, expected.lines).enumerated().first { $0.element.0 != $0.element.1 }.map { ", line \($0.offset) differs" } ?? ""
        fatalError("cap \(input.cap), writes \(input.pieces): decoded \(lines.count) lines\(refused ? " then refused" : ""), "
                   + "expected \(expected.lines.count)\(expected.tooLong ? " then refused" : "")\(differing)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    check(Input(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

// SwiftPM makes this module's entry point the executable's `main`.
@_cdecl("FuzzLineFraming_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOne(data, size) }
}
