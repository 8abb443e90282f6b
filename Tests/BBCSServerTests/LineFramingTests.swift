@testable import BBCSServer
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@Suite("newline framing")
struct LineFramingTests {
    private func lines(_ texts: String...) -> [ByteBuffer] { texts.map { ByteBuffer(string: $0) } }

    @Test func splitsLinesHowEverTheBytesArrive() throws {
        try ByteToMessageDecoderVerifier.verifyDecoder(
            stringInputOutputPairs: [
                ("{\"id\":1}\n", lines("{\"id\":1}")),
                ("a\nbb\n", lines("a", "bb")),
                ("crlf\r\n", lines("crlf")),
                ("\n", lines("")),
                ("0123456789\n", lines("0123456789")),
            ],
            decoderFactory: { LineFraming.Decoder(maxLength: 10) })
    }

    @Test func refusesALineOverTheCapBeforeItsNewlineArrives() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(LineFraming.Decoder(maxLength: 4)))
        #expect(throws: LineFraming.LineTooLong.self) { try channel.writeInbound(ByteBuffer(string: "12345")) }
        _ = try? channel.finish()
    }

    @Test func refusesALongLineThatArrivesWhole() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(LineFraming.Decoder(maxLength: 4)))
        #expect(throws: LineFraming.LineTooLong.self) { try channel.writeInbound(ByteBuffer(string: "12345\n")) }
        _ = try? channel.finish()
    }

    @Test func aLastLineWithoutItsNewlineIsStillALine() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(LineFraming.Decoder(maxLength: 100)))
        try channel.writeInbound(ByteBuffer(string: "one\ntwo"))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: "one"))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        _ = try channel.finish(acceptAlreadyClosed: false)
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: "two"))
    }

    @Test func theEncoderEndsEachLine() throws {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(LineFraming.Encoder()))
        try channel.writeOutbound(ByteBuffer(string: "{\"id\":1}"))
        try channel.writeOutbound(ByteBuffer(string: ""))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "{\"id\":1}\n"))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "\n"))
        _ = try channel.finish()
    }
}
