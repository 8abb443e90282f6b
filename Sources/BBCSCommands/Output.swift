import BBCSReport

/// Prints `line` to standard output with its control characters replaced (`printable`).
///
/// Every command's `print("...")` resolves here rather than to the standard library's (a
/// String argument prefers this overload): names, notes, reasons and titles were typed by
/// other people, and none may reach a reader's terminal with its escape sequences.
func print(_ line: String) {
    Swift.print(printable(line))
}
