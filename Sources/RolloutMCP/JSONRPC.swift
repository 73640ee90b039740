import Foundation
import RolloutCore

/// One JSON-RPC 2.0 message as MCP sends them over stdio, one per line. The guard's hot path reads and
/// writes these itself: strings pass through unchanged (the MCP SDK's value decoding rewrote strings
/// that look like data URLs, and cost a third of the proxy's time).
public enum JSONRPCMessage: Sendable, Hashable {
    case request(id: JSONValue, method: String, params: JSONValue?)
    case notification(method: String, params: JSONValue?)
    case response(id: JSONValue, result: JSONValue)
    case error(id: JSONValue, code: Int, message: String, data: JSONValue?)

    /// The message as one line of JSON, newline included.
    public var line: [UInt8] {
        var object: [String: JSONValue] = ["jsonrpc": "2.0"]
        switch self {
        case .request(let id, let method, let params):
            object["id"] = id
            object["method"] = .string(method)
            if let params { object["params"] = params }
        case .notification(let method, let params):
            object["method"] = .string(method)
            if let params { object["params"] = params }
        case .response(let id, let result):
            object["id"] = id
            object["result"] = result
        case .error(let id, let code, let message, let data):
            object["id"] = id
            var error: [String: JSONValue] = ["code": .number(Double(code)), "message": .string(message)]
            if let data { error["data"] = data }
            object["error"] = .object(error)
        }
        var bytes = JSONValue.object(object).wireBytes
        bytes.append(0x0A)
        return bytes
    }

    /// Reads one line. `exactNumbers` refuses numbers a double cannot hold as written (see
    /// `JSONValue.parse(bytes:exactNumbers:)`).
    public static func decode(_ line: UnsafeBufferPointer<UInt8>, exactNumbers: Bool = false) throws(JSONRPCError) -> JSONRPCMessage {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes: line, exactNumbers: exactNumbers)
        } catch {
            throw JSONRPCError(code: JSONRPCError.parseError, message: "not JSON: \(error)", id: .null)
        }
        guard case .object(let object) = value else {
            if case .array = value { throw JSONRPCError(code: JSONRPCError.invalidRequest, message: "JSON-RPC batches are not supported", id: .null) }
            throw JSONRPCError(code: JSONRPCError.invalidRequest, message: "a message must be a JSON object", id: .null)
        }
        let id = object["id"]
        if let method = object["method"] {
            guard case .string(let name) = method else {
                throw JSONRPCError(code: JSONRPCError.invalidRequest, message: "method must be a string", id: id ?? .null)
            }
            if let id {
                guard id.stringValue != nil || id.intValue != nil else {
                    throw JSONRPCError(code: JSONRPCError.invalidRequest, message: "id must be a string or an integer", id: .null)
                }
                return .request(id: id, method: name, params: object["params"])
            }
            return .notification(method: name, params: object["params"])
        }
        guard let id else { throw JSONRPCError(code: JSONRPCError.invalidRequest, message: "a response without an id", id: .null) }
        if let error = object["error"] {
            return .error(id: id, code: error["code"]?.intValue ?? JSONRPCError.internalError,
                          message: error["message"]?.stringValue ?? "error", data: error["data"])
        }
        guard let result = object["result"] else {
            throw JSONRPCError(code: JSONRPCError.invalidRequest, message: "a response with neither result nor error", id: id)
        }
        return .response(id: id, result: result)
    }
}

extension JSONRPCMessage {
    /// The method of a request or notification.
    public var method: String? {
        switch self {
        case .request(_, let method, _), .notification(let method, _): method
        default: nil
        }
    }
}

/// A JSON-RPC error to send back: its code and message, for the request `id`.
public struct JSONRPCError: Error, Sendable, Hashable {
    public static let parseError = -32700
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    public static let invalidParams = -32602
    public static let internalError = -32603

    public var code: Int
    public var message: String
    public var id: JSONValue

    /// The error as the message that answers its request.
    public var reply: JSONRPCMessage { .error(id: id, code: code, message: message, data: nil) }
}

/// Splits what a pipe delivers into lines, without copying a line more than once. A line longer than
/// `maxLength` bytes is neither kept nor passed on: its bytes are dropped as they come, up to its newline,
/// and `tooLong` is told its length, so a peer that never ends a line cannot grow the reader's memory
/// without bound.
struct LineSplitter {
    /// The longest line passed on by default: 16 MiB, far above any call a policy's field limits accept
    /// and any answer an approver reads.
    static let defaultMaxLength = 16 << 20

    let maxLength: Int
    private var pending: [UInt8] = []
    /// The bytes so far of a line over the limit, dropped up to its newline.
    private var dropping: Int?

    init(maxLength: Int = LineSplitter.defaultMaxLength) {
        self.maxLength = maxLength
    }

    /// The complete lines in `chunk` (and what was left from before), without their newline; blank
    /// lines are skipped; a line over the limit is told to `tooLong` with its length in bytes and the limit.
    mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>, _ line: (UnsafeBufferPointer<UInt8>) -> Void, tooLong: (_ length: Int, _ limit: Int) -> Void) {
        var start = 0
        var i = 0
        while i < chunk.count {
            if chunk[i] == 0x0A {
                if let dropped = dropping {
                    tooLong(dropped + i - start, maxLength)
                    dropping = nil
                } else if pending.isEmpty {
                    if i - start > maxLength { tooLong(i - start, maxLength) } else { emit(UnsafeBufferPointer(rebasing: chunk[start..<i]), line) }
                } else {
                    pending.append(contentsOf: chunk[start..<i])
                    if pending.count > maxLength { tooLong(pending.count, maxLength) } else { pending.withUnsafeBufferPointer { emit($0, line) } }
                    pending.removeAll(keepingCapacity: pending.count <= 65_536)
                }
                start = i + 1
            }
            i += 1
        }
        guard start < chunk.count else { return }
        let rest = chunk.count - start
        if let dropped = dropping {
            dropping = dropped + rest
        } else if pending.count + rest > maxLength {
            dropping = pending.count + rest
            pending = []
        } else {
            pending.append(contentsOf: chunk[start...])
        }
    }

    private func emit(_ bytes: UnsafeBufferPointer<UInt8>, _ line: (UnsafeBufferPointer<UInt8>) -> Void) {
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0x0D || bytes[end - 1] == 0x20 { end -= 1 }
        guard end > 0 else { return }
        line(UnsafeBufferPointer(rebasing: bytes[0..<end]))
    }
}

/// Ignores SIGPIPE for the whole process, once: a peer that closes its end of a pipe makes a write fail
/// with EPIPE, which callers handle, instead of killing rollout.
public enum BrokenPipes {
    private static let ignored: Void = { signal(SIGPIPE, SIG_IGN) }()

    public static func ignore() { ignored }
}

