import CZlib
import Foundation

/// The bytes of a file (or standard input), inflated when they are gzip. Every gzip member is read to
/// its end, where zlib checks its CRC and length, and whatever follows a member must be another one: a
/// truncated file, or bytes after the last member, is an error, never a shorter import. (zlib's
/// `gzread` returns what it could inflate from a cut file, and skips bytes after the last member, both
/// without an error.)
final class ByteSource {
    private let fd: Int32
    private let input: UnsafeMutablePointer<UInt8>
    private let inputCapacity = 1 << 18
    /// The inflater, nil when the bytes are not gzip.
    private var stream: UnsafeMutablePointer<z_stream>?
    /// Plain bytes read ahead (the first ones, looked at to tell gzip from plain) and not handed out yet.
    private var pendingStart = 0
    private var pendingEnd = 0
    private var inputEnded = false
    /// The member before ended; the next bytes start another member or there are none.
    private var memberEnded = false
    /// No byte of the current member was inflated yet (its header is still being read).
    private var memberFresh = true
    /// Members read to their end.
    private var membersEnded = 0
    /// A failure met after some bytes were inflated: thrown once those are handed out.
    private var deferred: Failure?
    /// Bytes read from the descriptor.
    private var readCount: Int64 = 0

    /// Why the bytes cannot be read.
    struct Failure: Error {
        var message: String
        /// The file's bytes are at fault (cut, damaged, followed by something else), not the reading.
        var damaged = true
    }

    /// Takes ownership of `fd` (closed when done).
    init(fd: Int32) throws(Failure) {
        self.fd = fd
        input = .allocate(capacity: inputCapacity)
        while pendingEnd < 2, !inputEnded {
            let n = try readInput(into: input + pendingEnd, capacity: inputCapacity - pendingEnd)
            if n == 0 { inputEnded = true }
            pendingEnd += n
        }
        guard pendingEnd >= 2, input[0] == 0x1F, input[1] == 0x8B else { return }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // 15 + 16: a window of 32 KiB, and a gzip wrapper (header and trailer) required.
        guard inflateInit2_(stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            stream.deallocate()
            throw Failure(message: "zlib could not start inflating", damaged: false)
        }
        stream.pointee.next_in = input
        stream.pointee.avail_in = UInt32(pendingEnd)
        pendingStart = pendingEnd
        self.stream = stream
    }

    deinit {
        if let stream {
            inflateEnd(stream)
            stream.deinitialize(count: 1)
            stream.deallocate()
        }
        input.deallocate()
        close(fd)
    }

    /// Bytes of the file consumed so far (compressed, for gzip).
    var consumed: Int64 {
        if let stream { return readCount - Int64(stream.pointee.avail_in) }
        return readCount - Int64(pendingEnd - pendingStart)
    }

    /// Fills `buffer` with up to `capacity` bytes; 0 at the end.
    func read(into buffer: UnsafeMutablePointer<UInt8>, capacity: Int) throws(Failure) -> Int {
        guard let stream else {
            if pendingStart < pendingEnd {
                let n = min(capacity, pendingEnd - pendingStart)
                buffer.update(from: input + pendingStart, count: n)
                pendingStart += n
                return n
            }
            return inputEnded ? 0 : try readInput(into: buffer, capacity: capacity)
        }
        if let deferred { throw deferred }
        while true {
            if stream.pointee.avail_in == 0, !inputEnded {
                let n = try readInput(into: input, capacity: inputCapacity)
                if n == 0 { inputEnded = true }
                stream.pointee.next_in = input
                stream.pointee.avail_in = UInt32(n)
            }
            if memberEnded {
                if stream.pointee.avail_in == 0 { return 0 }
                guard inflateReset(stream) == Z_OK else { throw Failure(message: "zlib could not start the next gzip member") }
                memberEnded = false
                memberFresh = true
            }
            if stream.pointee.avail_in == 0 {
                if memberFresh, membersEnded > 0 { throw Failure(message: "bytes after the gzip data are not another gzip member") }
                throw Failure(message: "the gzip data ends early (the file is truncated)")
            }
            stream.pointee.next_out = buffer
            stream.pointee.avail_out = UInt32(capacity)
            let result = inflate(stream, Z_NO_FLUSH)
            let produced = capacity - Int(stream.pointee.avail_out)
            if produced > 0 { memberFresh = false }
            switch result {
            case Z_STREAM_END:
                memberEnded = true
                membersEnded += 1
                if produced > 0 { return produced }
            case Z_OK, Z_BUF_ERROR:
                if produced > 0 { return produced }
            default:
                let detail = stream.pointee.msg.map { String(cString: $0) } ?? "code \(result)"
                let failure = memberFresh && membersEnded > 0
                    ? Failure(message: "bytes after the gzip data are not another gzip member (\(detail))")
                    : Failure(message: "the gzip data is damaged (\(detail))")
                // The lines inflated before the damage go first, so the error names the line it is in.
                guard produced > 0 else { throw failure }
                deferred = failure
                return produced
            }
        }
    }

    private func readInput(into buffer: UnsafeMutablePointer<UInt8>, capacity: Int) throws(Failure) -> Int {
        while true {
            let n = Foundation.read(fd, buffer, capacity)
            if n >= 0 {
                readCount += Int64(n)
                return n
            }
            if errno == EINTR { continue }
            throw Failure(message: String(cString: strerror(errno)), damaged: false)
        }
    }
}
