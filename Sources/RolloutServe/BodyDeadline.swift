import Hummingbird
import NIOCore

/// A request's body read within a time limit: the server's idle timeout closes a connection that sends
/// nothing, but a request whose body comes a byte at a time is in progress and would hold its handler,
/// and its connection, for as long as the client likes. Past the limit the request ends with 408.
enum BodyDeadline {
    static func collect(_ request: Request, upTo limit: Int, within seconds: Double) async throws -> ByteBuffer {
        try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask {
                var request = request
                return try await request.collectBody(upTo: limit)
            }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let body = first else {
                throw HTTPError(.requestTimeout, message: "the request's body did not arrive within \(Int(seconds)) s")
            }
            return body
        }
    }
}

extension Request {
    /// The body `BodyWithinDeadline` already read (a route's own, smaller, limit applies).
    func bufferedBody(upTo limit: Int) async throws -> ByteBuffer {
        var request = self
        return try await request.collectBody(upTo: limit)
    }
}

/// Every request's body within the deadline, before any route sees it, on every route (a GET or a refused
/// request too, whose body Hummingbird would otherwise read to its end, after the response, with no limit).
/// The routes then read the buffered body.
struct BodyWithinDeadline: RouterMiddleware {
    typealias Context = BasicRequestContext
    let seconds: Double
    /// The largest body any route takes (Slack's interaction payloads).
    static let largest = 65_536

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // A request without a body says so (neither a length above 0 nor a transfer coding): nothing to wait for.
        let length = request.headers[.contentLength].flatMap { Int($0) }
        guard request.headers[.transferEncoding] != nil || (length ?? 0) > 0 else { return try await next(request, context) }
        var request = request
        request.body = RequestBody(buffer: try await BodyDeadline.collect(request, upTo: Self.largest, within: seconds))
        return try await next(request, context)
    }
}
