import Foundation
import NIOCore
import NIOTLS

/// The last handler of a `WebhookPoster` channel: collects what the server sends and hands over the head
/// of each answer (up to its blank line), reports the TLS handshake, and blames a closed channel on the
/// first error seen. Lives on the channel's event loop: every call but `timedOut` is made there.
final class HTTPHeadReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    /// An answer's head longer than this is refused.
    static let limit = 64 * 1024

    private var received: [UInt8] = []
    /// How far `received` is known to hold no blank line: a head trickled a byte at a time is scanned
    /// once, not once per byte (64 KiB that way was two billion comparisons).
    private var scanned = 0
    private var waiting: EventLoopPromise<[UInt8]>?
    private var handshakeWaiting: EventLoopPromise<Void>?
    private var handshakeDone = false
    private var closed = false
    /// The first error the pipeline or a write reported.
    private var failure: (any Error)?
    private var context: ChannelHandlerContext?
    /// Runs once, when the next head is complete and before it is handed over, with how many bytes came
    /// after it: the CONNECT tunnel adds TLS there, in the same turn of the loop. A throw fails the head.
    var afterHead: ((ChannelHandlerContext, [UInt8], Int) throws -> Void)?

    private let lock = NSLock()
    private var expired = false
    /// Set when the deadline closed the channel; read from the task that waited.
    var timedOut: Bool {
        get { lock.withLock { expired } }
        set { lock.withLock { expired = newValue } }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func expect(_ promise: EventLoopPromise<[UInt8]>) {
        waiting = promise
        deliver()
    }

    /// Waits until the TLS handshake has completed (or fails as the channel does).
    func handshake(on channel: any Channel) async throws {
        let done = channel.eventLoop.makePromise(of: Void.self)
        try await channel.eventLoop.submit {
            self.handshakeWaiting = done
            self.deliver()
        }.get()
        try await done.futureResult.get()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if let bytes = buffer.readBytes(length: buffer.readableBytes) { received += bytes }
        deliver()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            handshakeDone = true
            deliver()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        // The errors of the close (pending writes failed with the handshake's error) come in this same turn
        // of the loop: answer after them, so the error names the cause rather than the closing.
        context.eventLoop.execute { self.deliver() }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        record(error)
        context.close(promise: nil)
    }

    /// Keeps the first error; what waits fails with it.
    func record(_ error: any Error) {
        if failure == nil { failure = error }
        deliver()
    }

    private func deliver() {
        if let done = handshakeWaiting {
            if handshakeDone {
                handshakeWaiting = nil
                done.succeed()
            } else if let problem = problem() {
                handshakeWaiting = nil
                done.fail(problem)
            }
        }
        guard let promise = waiting else { return }
        let end = Self.endOfHead(received, from: scanned)
        if end == nil { scanned = received.count }
        if let end {
            waiting = nil
            let head = Array(received[..<end])
            received.removeFirst(end)
            scanned = 0
            if let hook = afterHead {
                afterHead = nil
                do {
                    guard let context else { throw DeliveryError(message: "the connection closed before an answer came") }
                    try hook(context, head, received.count)
                } catch {
                    record(error)
                    promise.fail(error)
                    context?.close(promise: nil)
                    return
                }
            }
            promise.succeed(head)
        } else if received.count > Self.limit {
            waiting = nil
            promise.fail(DeliveryError(message: "the answer's head is longer than \(Self.limit) bytes"))
        } else if let problem = problem() {
            waiting = nil
            promise.fail(problem)
        }
    }

    /// Why nothing more will come, or nil while something may.
    private func problem() -> (any Error)? {
        if timedOut { return DeliveryError(message: "no answer within the deadline") }
        if let failure { return failure }
        if closed { return DeliveryError(message: "the connection closed before an answer came") }
        return nil
    }

    /// The index just past the head's blank line (CR LF CR LF, or LF LF as RFC 9112 lets a client
    /// accept), or nil.
    static func endOfHead(_ bytes: [UInt8], from start: Int = 0) -> Int? {
        var i = max(0, start - 2)  // a blank line can begin in the last two bytes already scanned
        while i < bytes.count {
            if bytes[i] == 10 {
                if i + 1 < bytes.count, bytes[i + 1] == 10 { return i + 2 }
                if i + 2 < bytes.count, bytes[i + 1] == 13, bytes[i + 2] == 10 { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    /// The status code of an answer's head: `HTTP/1.0` or `HTTP/1.1`, a space, three digits, then a space
    /// or the line's end.
    static func status(_ head: [UInt8]) throws -> Int {
        let line = Array(head.prefix { $0 != 13 && $0 != 10 })
        let digits = line.count >= 12 ? Array(line[9..<12]) : []
        guard line.count >= 12, Array("HTTP/1.".utf8) == Array(line[0..<7]), line[7] == 0x30 || line[7] == 0x31, line[8] == 0x20,
              digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), line.count == 12 || line[12] == 0x20 else {
            throw DeliveryError(message: "the answer is not HTTP/1.x: \(DeliveryError.printable(String(decoding: line.prefix(80), as: UTF8.self)))")
        }
        return digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }
}
