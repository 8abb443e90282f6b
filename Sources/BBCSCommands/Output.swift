import BBCSReport

// Every line a command prints comes through here rather than the standard library's `print`
// (a String argument prefers this overload): names, notes, reasons and titles were typed by
// other people, and none may reach the reader's terminal with its control characters.
/// Prints `line` to standard output with its control characters replaced (`printable`).
func print(_ line: String) {
    Swift.print(printable(line))
}
