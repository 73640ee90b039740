import Foundation

/// Writes whole lines to a file descriptor, waiting up to a deadline for a reader that is slow or has
/// stopped: the guard's answers to its agent, and its requests to an upstream's standard input. The
/// descriptors it is given block (a `Pipe`'s, a terminal), and a write to a full blocking pipe waits
/// for the reader however long that takes, so on a pipe or a socket it writes only what cannot block:
/// `poll` for room (up to the deadline), then at most `PIPE_BUF` bytes to a pipe (which a pipe with
/// room takes whole) or a socket send that does not wait. Never dies of SIGPIPE: a closed reader is an
/// error the caller hears about.
enum LineWriter {
    enum Failure: Error {
        case closed
        case timedOut
    }

    /// What a descriptor is, as far as writing to it without blocking goes.
    enum Kind {
        /// A pipe: after `poll` says writable, a write of at most `PIPE_BUF` bytes cannot block.
        case pipe
        /// A socket: written with `MSG_DONTWAIT`.
        case socket
        /// A terminal or a file: written as it comes (a terminal that stops being read still blocks).
        case other

        init(_ fd: Int32) {
            var status = stat()
            let format = fstat(fd, &status) == 0 ? status.st_mode & S_IFMT : 0
            self = format == S_IFIFO ? .pipe : format == S_IFSOCK ? .socket : .other
        }
    }

    /// Writes all of `bytes`, or throws: `.timedOut` once `timeout` seconds pass with bytes left
    /// (some may have been written), `.closed` when the reader is gone.
    static func write(_ bytes: [UInt8], to fd: Int32, kind: Kind? = nil, timeout: Double) throws(Failure) {
        let kind = kind ?? Kind(fd)
        let deadline = DispatchTime.now().uptimeNanoseconds &+ UInt64(max(0, min(timeout, 1e9)) * 1e9)
        var offset = 0
        while offset < bytes.count {
            if kind != .other {
                let now = DispatchTime.now().uptimeNanoseconds
                guard now < deadline else { throw .timedOut }
                var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let wait = Int32(min((deadline - now + 999_999) / 1_000_000, 1_000))
                let ready = poll(&poller, 1, wait)
                if ready == 0 || (ready < 0 && errno == EINTR) { continue }
                // Ready, or an error the write below reports (a closed reader: EPIPE).
            }
            let n = bytes.withUnsafeBytes { raw -> Int in
                let start = raw.baseAddress! + offset, left = raw.count - offset
                switch kind {
                case .pipe: return Foundation.write(fd, start, min(left, Int(PIPE_BUF)))
                case .socket: return Glibc.send(fd, start, left, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
                case .other: return Foundation.write(fd, start, left)
                }
            }
            if n > 0 {
                offset += n
                continue
            }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                // Another writer took the room, or a non-blocking terminal is full: wait a little.
                if kind == .other {
                    if DispatchTime.now().uptimeNanoseconds >= deadline { throw .timedOut }
                    var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&poller, 1, 50)
                }
                continue
            }
            throw .closed
        }
    }
}
