import ArgumentParser
import Foundation

/// A file written under a temporary name and renamed into place by `commit`.
final class StagedFile {
    let name: String
    let path: String
    let temporary: String
    private let handle: FileHandle
    private var buffer = Data()

    init(directory: String, name: String) throws {
        self.name = name
        path = (directory as NSString).appendingPathComponent(name)
        temporary = (directory as NSString).appendingPathComponent(".\(name).\(ProcessInfo.processInfo.processIdentifier).tmp")
        guard FileManager.default.createFile(atPath: temporary, contents: nil), let handle = FileHandle(forWritingAtPath: temporary) else {
            throw ValidationError("cannot write \(temporary)")
        }
        self.handle = handle
    }

    func append(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 20 { try flush() }
    }

    func flush() throws {
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    func commit() throws {
        try flush()
        try handle.close()
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: temporary, toPath: path)
    }

    func discard() {
        try? handle.close()
        try? FileManager.default.removeItem(atPath: temporary)
    }
}
