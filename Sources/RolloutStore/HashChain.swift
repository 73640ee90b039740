import Crypto
import Foundation
import RolloutCore

/// The audit log's tamper evidence: each event's hash is SHA-256 over the previous event's hash
/// (as 64 hex characters) followed by the event's stored body, byte for byte. Editing, deleting or
/// reordering any stored event breaks every link after it.
public enum HashChain {
    /// The `prev_hash` of the first event.
    public static let genesis = String(repeating: "0", count: 64)

    public static func hash(previous: String, body: String) -> String {
        var body = body
        return body.withUTF8 { hash(previous: previous, bytes: UnsafeRawBufferPointer($0)) }
    }

    public static func hash(previous: String, body: [UInt8]) -> String {
        body.withUnsafeBytes { hash(previous: previous, bytes: $0) }
    }

    /// Whether `hash` (hex text, as stored) is the hash of `body` after `previous`; compares bytes, so
    /// verification makes no string per event.
    public static func matches(previous: UnsafeBufferPointer<UInt8>, body: UnsafeBufferPointer<UInt8>, hash: UnsafeBufferPointer<UInt8>) -> Bool {
        guard hash.count == 64 else { return false }
        var hasher = SHA256()
        hasher.update(bufferPointer: UnsafeRawBufferPointer(previous))
        hasher.update(bufferPointer: UnsafeRawBufferPointer(body))
        return hasher.finalize().withUnsafeBytes { Hex.matches($0, hash) }
    }

    private static func hash(previous: String, bytes: UnsafeRawBufferPointer) -> String {
        var hasher = SHA256()
        var previous = previous
        previous.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        hasher.update(bufferPointer: bytes)
        return hasher.finalize().withUnsafeBytes(Hex.lowercase)
    }
}

/// The last event of the chain: what a report or a promotion records to say which log it covered.
public struct ChainHead: Sendable, Hashable, Codable {
    public var seq: Int64
    public var hash: String

    public static let empty = ChainHead(seq: 0, hash: HashChain.genesis)
}
