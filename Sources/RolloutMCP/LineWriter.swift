import Foundation

/// Writes whole lines to a file descriptor, waiting up to a deadline for a reader that is slow or has
/// stopped: the guard's answers to its agent, and its requests to an upstream's standard input. A write
/// to a full blocking pipe waits for the reader however long that takes, so on a blocking pipe or socket
/// (the guard's own output, which it shares with its parent and cannot make non-blocking) it writes only
/// what cannot block: `poll` for room (up to the deadline), then at most `PIPE_BUF` bytes to a pipe
/// (which a pipe with room takes whole) or a socket send that does not wait. A descriptor this process
/// made non-blocking (an upstream's stdin) is written at once and waited on only when full. Never dies
/// of SIGPIPE: a closed reader is an error the caller hears about.
enum LineWriter {
    enum Failure: Error {
        case closed
        case timedOut
    }

    /// What a descriptor is, as far as writing to it without blocking goes.
    enum Kind {
        /// A blocking pipe: after `poll` says writable, a write of at most `PIPE_BUF` bytes cannot block.
        case pipe
        /// A socket: written with `MSG_DONTWAIT`.
        case socket
        /// A descriptor this process set `O_NONBLOCK` on and holds alone (`ServerProcess`'s stdin): a
        /// full one answers EAGAIN, so it is written first and polled only then (one system call per
        /// line on the proxy's path, not three).
        case nonBlocking
        /// A terminal or a file: written as it comes (a terminal that stops being read still blocks).
        case other

        /// The kind of a descriptor this process did not make non-blocking.
        init(_ fd: Int32) {
            var status = stat()
            let format = fstat(fd, &status) == 0 ? status.st_mode & S_IFMT : 0
            self = format == S_IFIFO ? .pipe : format == S_IFSOCK ? .socket : .other
        }
    }

    /// The most a pipe with room takes whole in one write.
    static let pipeChunk = Int(PIPE_BUF)

    /// One write of the front of `bytes` as `kind` allows (at most `pipeChunk` bytes to a pipe, a send
    /// that does not wait to a socket): bytes written, or -1 with `errno`. It cannot block on a pipe
    /// that `poll` said has room, nor on a socket; the caller waits for room.
    static func writeSome(_ bytes: UnsafeRawBufferPointer, to fd: Int32, kind: Kind) -> Int {
        switch kind {
        case .pipe: Foundation.write(fd, bytes.baseAddress, min(bytes.count, pipeChunk))
        case .socket: Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
        case .nonBlocking, .other: Foundation.write(fd, bytes.baseAddress, bytes.count)
        }
    }

    /// Writes all of `bytes`, or throws: `.timedOut` once `timeout` seconds pass with bytes left
    /// (some may have been written), `.closed` when the reader is gone. With `sinceProgress`, the
    /// seconds count from the last bytes the reader took: a reader that keeps reading, however slowly,
    /// gets the whole line; one that stops is given up on `timeout` seconds later.
    static func write(_ bytes: [UInt8], to fd: Int32, kind: Kind? = nil, timeout: Double, sinceProgress: Bool = false) throws(Failure) {
        let kind = kind ?? Kind(fd)
        let span = UInt64(max(0, min(timeout, 1e9)) * 1e9)
        var deadline = DispatchTime.now().uptimeNanoseconds &+ span
        /// Waits for room, at most a second and never past the deadline (thrown); whether there is room,
        /// or an error (a closed reader) that the write will report (EPIPE). A descriptor `poll` cannot
        /// watch is refused as closed (not written blind, not polled in a loop).
        func waitForRoom() throws(Failure) -> Bool {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { throw .timedOut }
            var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&poller, 1, Int32(min((deadline - now + 999_999) / 1_000_000, 1_000)))
            if ready < 0 && errno != EINTR { throw .closed }
            return ready > 0
        }
        var offset = 0
        while offset < bytes.count {
            // A blocking pipe or socket is written only once it has room.
            if kind == .pipe || kind == .socket, !(try waitForRoom()) { continue }
            let n = bytes.withUnsafeBytes { writeSome(UnsafeRawBufferPointer(rebasing: $0[offset...]), to: fd, kind: kind) }
            if n > 0 {
                offset += n
                if sinceProgress { deadline = DispatchTime.now().uptimeNanoseconds &+ span }
                continue
            }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                // Full (another writer took the room, or a non-blocking descriptor filled up).
                if kind != .pipe && kind != .socket { _ = try waitForRoom() }
                continue
            }
            throw .closed
        }
    }
}
