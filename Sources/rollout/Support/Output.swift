import Foundation
import RolloutCore

/// Where commands print: results to standard output, problems and progress to standard error.
enum Output {
    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    static func line(_ text: String) {
        print(text)
    }

    /// Pushes buffered standard output to the terminal or pipe now.
    static func flush() {
        fflush(nil)
    }

    /// Pretty JSON on standard output.
    static func json(_ value: JSONValue) {
        print(value.prettyText())
    }

    /// Whether standard error is a terminal, for progress bars and colour.
    static var stderrIsTerminal: Bool { isatty(2) == 1 }
    static var stdoutIsTerminal: Bool { isatty(1) == 1 }
}

/// How a command prints data: for people or for machines.
enum OutputFormat: String, CaseIterable {
    case text
    case json
}
