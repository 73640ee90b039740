import Foundation

/// Progress on standard error: a bar redrawn in place on a terminal, plain lines otherwise.
final class ProgressBar {
    let interactive: Bool
    private var lastDraw = Date.distantPast
    private var drawn = false

    init(interactive: Bool = Output.stderrIsTerminal) {
        self.interactive = interactive
    }

    /// Redraws the bar (at most 20 times a second).
    func update(fraction: Double, label: String) {
        guard interactive else { return }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) > 0.05 || fraction >= 1 else { return }
        lastDraw = now
        let width = 30
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let text = "\r[\(bar)] \(String(format: "%3d", Int(fraction * 100)))%  \(label)"
        Output.raw(text.count > 110 ? String(text.prefix(110)) : text.padding(toLength: 110, withPad: " ", startingAt: 0))
        drawn = true
    }

    /// A line that stays: printed above the bar on a terminal, as is otherwise.
    func line(_ text: String) {
        if interactive && drawn { Output.raw("\r" + String(repeating: " ", count: 110) + "\r") }
        Output.error(text)
    }

    func finish() {
        if interactive && drawn { Output.raw("\r" + String(repeating: " ", count: 110) + "\r") }
    }
}
