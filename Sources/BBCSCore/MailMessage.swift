import Foundation

/// A reminder as a mail message for a command like `sendmail -t -i`: headers that no stored
/// text can end, add to or garble, and a UTF-8 body. Pure; the scheduler pipes the result.
public enum MailMessage {
    /// The whole message, lines ending in "\n" as sendmail reads them: `To`, `Subject`
    /// (`subjectHeader`), the MIME headers of a UTF-8 text, a blank line and `body`.
    public static func compose(to: String, subject: String, body: String) -> String {
        """
        To: \(headerValue(to))
        \(subjectHeader(subject))
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: 8bit
        Auto-Submitted: auto-generated

        \(body)

        """
    }

    /// `text` fit for one header field: CR, LF and every other control character become a
    /// space, so the text can neither end the field nor start another (`Bcc:`).
    public static func headerValue(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
    }

    /// The `Subject:` field: ASCII as it is; otherwise RFC 2047 encoded-words
    /// (`=?UTF-8?B?...?=`), each of whole characters and at most 75 characters long, folded
    /// one to a line so that no line is longer than 76.
    public static func subjectHeader(_ subject: String) -> String {
        let field = "Subject: "
        let text = headerValue(subject)
        guard !text.unicodeScalars.allSatisfy(\.isASCII) else { return field + text }
        // An encoded-word of n bytes is 12 characters around 4 * ceil(n / 3) of base64.
        func bytesFitting(_ length: Int) -> Int { (length - 12) / 4 * 3 }
        var words: [String] = []
        var chunk: [UInt8] = []
        func flush() {
            words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
            chunk = []
        }
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            // The first word shares its line with the field name; the others follow a space.
            let limit = bytesFitting(words.isEmpty ? 76 - field.count : 75)
            if chunk.count + bytes.count > limit { flush() }
            chunk += bytes
        }
        if !chunk.isEmpty { flush() }
        return field + words.joined(separator: "\n ")
    }
}
