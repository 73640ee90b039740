import Crypto
import Foundation

/// SHA-256 of a file, read in chunks (reports and their rows files can be large).
public enum FileDigest {
    /// Lower-case hex, as `sha256sum` prints it.
    public static func sha256(path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw UnreadableInputError(Diagnostic(file: path, line: 0, column: 0, path: "", message: "cannot read the file"))
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().hexString
    }
}
