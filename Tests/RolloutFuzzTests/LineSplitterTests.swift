@testable import RolloutMCP
import Testing

/// How what a pipe delivers is cut into JSON-RPC lines, however the pipe cuts it into reads.
@Suite("LineSplitter: lines from a pipe, with a length limit")
struct LineSplitterTests {
    /// A stream of short lines, blank ones, CR LF endings, a line exactly at the limit (10 bytes) and
    /// two over it, one ending the stream without its newline (never told: it never ended).
    static let stream = Array(("one\n\ntwo\r\n0123456789\n0123456789A\nthree\n" + String(repeating: "y", count: 25) + "\nfour\nzzzzzzzzzzzzzzzz").utf8)

    @Test("lines and lines over the limit are the same whatever the size of the reads", arguments: [1, 2, 3, 7, 11, 64, stream.count])
    func chunked(size: Int) {
        var splitter = LineSplitter(maxLength: 10)
        var lines: [String] = []
        var tooLong: [Int] = []
        var start = 0
        while start < Self.stream.count {
            let end = min(start + size, Self.stream.count)
            Self.stream[start..<end].withUnsafeBufferPointer { chunk in
                splitter.feed(chunk) { lines.append(String(decoding: $0, as: UTF8.self)) } tooLong: { length, limit in
                    #expect(limit == 10)
                    tooLong.append(length)
                }
            }
            start = end
        }
        #expect(lines == ["one", "two", "0123456789", "three", "four"])
        #expect(tooLong == [11, 25])
    }
}
