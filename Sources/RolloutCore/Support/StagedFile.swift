import Crypto
import Foundation

/// A file written under a temporary name and renamed into place by `commit`: a reader never sees it
/// half-written, and a failed write leaves nothing behind (`discard`).
public final class StagedFile {
    public let name: String
    public let path: String
    public let temporary: String
    private let handle: FileHandle
    private var buffer = Data()
    private var hasher = SHA256()
    /// The SHA-256 of everything written, in hex, once committed: a report's SHA256SUMS without
    /// reading its files back.
    public private(set) var sha256: String?

    /// A file that cannot be created where it should go.
    public struct CreateError: Error, CustomStringConvertible {
        public var path: String
        public var description: String { "cannot write \(path)" }
    }

    public init(directory: String, name: String) throws {
        self.name = name
        path = (directory as NSString).appendingPathComponent(name)
        temporary = (directory as NSString).appendingPathComponent(".\(name).\(ProcessInfo.processInfo.processIdentifier).tmp")
        guard FileManager.default.createFile(atPath: temporary, contents: nil), let handle = FileHandle(forWritingAtPath: temporary) else {
            throw CreateError(path: temporary)
        }
        self.handle = handle
    }

    public func append(_ text: String) throws {
        var text = text
        text.withUTF8 { buffer.append(contentsOf: UnsafeRawBufferPointer($0)) }
        if buffer.count >= 1 << 20 { try flush() }
    }

    /// Appends UTF-8 bytes (a report's rows, written as bytes).
    public func append(bytes: [UInt8]) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 20 { try flush() }
    }

    /// The SHA-256 of everything appended so far, in hex (the file stays open for more).
    public func digestSoFar() throws -> String {
        try flush()
        return hasher.finalize().withUnsafeBytes(Hex.lowercase)
    }

    public func flush() throws {
        try handle.write(contentsOf: buffer)
        hasher.update(data: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    public func commit() throws {
        try flush()
        try handle.close()
        sha256 = hasher.finalize().withUnsafeBytes(Hex.lowercase)
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: temporary, toPath: path)
    }

    public func discard() {
        try? handle.close()
        try? FileManager.default.removeItem(atPath: temporary)
    }
}
