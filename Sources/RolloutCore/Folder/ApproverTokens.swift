import Foundation

/// Sign-in tokens for `rollout serve`: a new random token for a person, and its SHA-256 put into
/// approvers.yaml (added, or replacing the person's old one) so the token itself is never stored.
public enum ApproverTokens {
    /// Why a token could not be recorded; the file is left as it was.
    public struct RecordError: Error, CustomStringConvertible {
        public var file: String
        public var message: String
        public var description: String { "\(file): \(message)" }
    }

    /// A new token: 24 random bytes in hex.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// Records the SHA-256 of `token` for `name` in the approvers file at `path` (created when
    /// missing): a new entry at the end, or the `token_sha256` line of an existing one replaced. The
    /// result is read back before it replaces the file; whatever would not read back as this token for
    /// this person throws `RecordError` and changes nothing. Returns whether the person was new.
    @discardableResult
    public static func record(token: String, for name: String, in path: String) throws -> Bool {
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || ".-_@".contains($0) }) else {
            throw RecordError(file: path, message: "\(name.debugDescription) is not a name approvers.yaml can hold (letters, digits, . - _ @)")
        }
        let hash = ApproversFile.sha256(token)
        let existing = FileManager.default.fileExists(atPath: path) ? try String(contentsOfFile: path, encoding: .utf8) : nil
        let current = try ApproversFile.load(path: path)
        var lines = (existing ?? "version: 1\napprovers:\n").components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        let isNew: Bool
        if let approver = current.approvers.first(where: { $0.name == name }), approver.line >= 1, approver.line <= lines.count {
            isNew = false
            let entryIndent = lines[approver.line - 1].prefix { $0 == " " }.count
            var index = approver.line
            var replaced = false
            while index < lines.count {
                let line = lines[index]
                let indent = line.prefix { $0 == " " }.count
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if !trimmed.isEmpty && !trimmed.hasPrefix("#") && indent <= entryIndent { break }
                if trimmed.hasPrefix("token_sha256:") {
                    lines[index] = String(repeating: " ", count: indent) + "token_sha256: \(hash)"
                    replaced = true
                    break
                }
                index += 1
            }
            if !replaced { lines.insert(String(repeating: " ", count: entryIndent + 2) + "token_sha256: \(hash)", at: approver.line) }
        } else {
            isNew = true
            if !lines.contains(where: { $0.hasPrefix("approvers:") }) { lines.append("approvers:") }
            lines += ["  \(name):", "    token_sha256: \(hash)"]
        }
        let text = lines.joined(separator: "\n") + "\n"
        let directory = (path as NSString).deletingLastPathComponent
        let staged = try StagedFile(directory: directory.isEmpty ? "." : directory, name: (path as NSString).lastPathComponent)
        try staged.append(text)
        try staged.flush()
        let readBack = try? ApproversFile.load(path: staged.temporary)
        guard let readBack, readBack.approver(token: token)?.name == name,
              readBack.approvers.count == current.approvers.count + (isNew ? 1 : 0) else {
            staged.discard()
            throw RecordError(file: path, message: "could not add \(name)'s token without changing the file's meaning; add `token_sha256: \(hash)` under \(name) by hand")
        }
        try staged.commit()
        return isNew
    }
}
