import NIOCore

/// Newline-delimited framing, both ways: the decoder splits the inbound byte stream into
/// `\n`-terminated lines (without the terminator, a trailing `\r` dropped), refusing a line
/// longer than `maxLength` bytes; the encoder writes each outbound line with its `\n`.
enum LineFraming {
    /// A line longer than the cap; the connection is answered `too_large` and closed.
    struct LineTooLong: Error {}

    struct Decoder: ByteToMessageDecoder {
        typealias InboundOut = ByteBuffer

        let maxLength: Int
        /// Bytes already searched for a newline, so a line arriving in pieces is scanned once.
        private var scanned = 0

        init(maxLength: Int) { self.maxLength = maxLength }

        mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
            guard let line = try nextLine(&buffer) else { return .needMoreData }
            context.fireChannelRead(wrapInboundOut(line))
            return .continue
        }

        mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
            if try decode(context: context, buffer: &buffer) == .continue { return .continue }
            // A last line without its newline is still a request.
            if buffer.readableBytes > 0, let line = buffer.readSlice(length: buffer.readableBytes) {
                scanned = 0
                context.fireChannelRead(wrapInboundOut(Self.droppingCarriageReturn(line)))
            }
            return .needMoreData
        }

        private mutating func nextLine(_ buffer: inout ByteBuffer) throws -> ByteBuffer? {
            let view = buffer.readableBytesView
            guard let newline = view.dropFirst(scanned).firstIndex(of: UInt8(ascii: "\n")) else {
                scanned = view.count
                guard view.count <= maxLength else { throw LineTooLong() }
                return nil
            }
            let length = newline - view.startIndex
            guard length <= maxLength, let line = buffer.readSlice(length: length) else { throw LineTooLong() }
            buffer.moveReaderIndex(forwardBy: 1)
            scanned = 0
            return Self.droppingCarriageReturn(line)
        }

        // Tolerates CRLF from hand-typed sessions.
        private static func droppingCarriageReturn(_ line: ByteBuffer) -> ByteBuffer {
            guard line.readableBytesView.last == UInt8(ascii: "\r") else { return line }
            return line.getSlice(at: line.readerIndex, length: line.readableBytes - 1) ?? line
        }
    }

    struct Encoder: MessageToByteEncoder {
        typealias OutboundIn = ByteBuffer

        func encode(data: ByteBuffer, out: inout ByteBuffer) {
            out.reserveCapacity(data.readableBytes + 1)
            out.writeImmutableBuffer(data)
            out.writeInteger(UInt8(ascii: "\n"))
        }
    }
}
