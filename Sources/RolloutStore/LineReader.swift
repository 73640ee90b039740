import Foundation

/// Reads a file line by line as raw bytes, without decoding every line into a String: plain or
/// gzip-compressed (`ByteSource` tells them apart and checks every member), or standard input for "-".
/// The import reads millions of lines.
final class LineReader {
    private let source: ByteSource
    /// The file as the user named it, for errors.
    private let path: String
    /// The longest line read (64 MiB unless a test says less): a longer one (a file with no newlines, a
    /// decompression bomb) is refused instead of filling memory.
    private let maximumLine: Int
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var eof = false
    /// 1-based number of the line last returned.
    private(set) var lineNumber = 0
    /// The file's size in bytes (compressed, for gzip), nil for standard input: what progress is a share of.
    let totalBytes: Int64?
    private let offsetLock = NSLock()
    private var consumed: Int64 = 0

    init(path: String, maximumLine: Int = 64 << 20) throws {
        self.maximumLine = maximumLine
        let fd: Int32
        if path == "-" {
            fd = dup(0)
        } else {
            guard FileManager.default.fileExists(atPath: path) else { throw StoreError.notFound("\(path): no such file; nothing was imported") }
            fd = open(path, O_RDONLY | O_CLOEXEC)
        }
        self.path = path == "-" ? "<stdin>" : path
        guard fd >= 0 else { throw StoreError.io(path: self.path, detail: "cannot open the file: \(String(cString: strerror(errno)))") }
        do {
            source = try ByteSource(fd: fd)
        } catch {
            if error.damaged { throw StoreError.badRecord(file: self.path, line: 1, field: "", message: error.message) }
            throw StoreError.io(path: self.path, detail: "\(error.message); nothing from this file was imported")
        }
        totalBytes = path == "-" ? nil : (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value
        buffer = [UInt8](repeating: 0, count: 1 << 20)
    }

    /// Calls `body` with the next line (without its newline or a trailing CR); false at the end.
    func next<T>(_ body: (UnsafeBufferPointer<UInt8>) throws -> T) throws -> T? {
        while true {
            if let newline = buffer[start..<end].firstIndex(of: 0x0A) {
                let lineStart = start
                start = newline + 1
                lineNumber += 1
                var lineEnd = newline
                if lineEnd > lineStart, buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                return try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[lineStart..<lineEnd])) }
            }
            if eof {
                guard start < end else { return nil }
                let lineStart = start
                let lineEnd = end
                start = end
                lineNumber += 1
                return try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[lineStart..<lineEnd])) }
            }
            try fill()
        }
    }

    private func fill() throws {
        if start > 0 {
            let remaining = end - start
            if remaining > 0 { buffer.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: $0.baseAddress! + start, count: remaining) } }
            start = 0
            end = remaining
        }
        if end == buffer.count {
            guard buffer.count < maximumLine else {
                throw StoreError.badRecord(file: path, line: lineNumber + 1, field: "",
                                           message: "the line is longer than \(maximumLine) bytes; nothing from this file was imported")
            }
            buffer.append(contentsOf: [UInt8](repeating: 0, count: max(1, min(buffer.count, maximumLine - buffer.count))))
        }
        let capacity = buffer.count - end
        let read: Int
        do {
            read = try buffer.withUnsafeMutableBufferPointer { (all) throws(ByteSource.Failure) -> Int in try source.read(into: all.baseAddress! + end, capacity: capacity) }
        } catch {
            if error.damaged { throw StoreError.badRecord(file: path, line: lineNumber + 1, field: "", message: error.message) }
            throw StoreError.io(path: path, detail: "\(error.message) (reading line \(lineNumber + 1)); nothing from this file was imported")
        }
        if read == 0 { eof = true }
        end += read
        let offset = source.consumed
        offsetLock.lock()
        consumed = offset
        offsetLock.unlock()
    }

    /// Bytes of the file read so far (compressed, for gzip); safe to ask from another thread.
    var bytesRead: Int64 {
        offsetLock.lock()
        defer { offsetLock.unlock() }
        return consumed
    }
}
