import Foundation
import RolloutCore

/// Where commands print: results to standard output, problems and progress to standard error.
enum Output {
    /// A reader that went away (stderr piped into `head`) loses the text; the command still ends with its
    /// own status (FileHandle's write trapped on the closed pipe: exit 132 for any error message).
    /// Text for people passes through `VisibleText`: an agent's argument quoted in a message cannot move
    /// the cursor, recolour the terminal or reorder the line it is on.
    static func error(_ text: String) {
        let text = VisibleText.escapingInvisibles(text)
        raw(text.hasSuffix("\n") ? text : text + "\n")
    }

    /// `text` to standard error as it is, with write(2): an error (EPIPE) drops the rest, it never traps.
    static func raw(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var done = 0
            while done < bytes.count {
                let n = write(2, bytes.baseAddress! + done, bytes.count - done)
                if n > 0 { done += n } else if n < 0, errno == EINTR { continue } else { return }
            }
        }
    }

    static func line(_ text: String) {
        print(VisibleText.escapingInvisibles(text))
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
