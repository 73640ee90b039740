import Foundation

/// The one-line results shown after a decision or a rollback ("#3: executed (audit event 16)…"), kept
/// in this process under random ids: the redirect carries only the id, so a link someone else made
/// cannot put words of theirs on an approver's page. The newest 500 are kept.
final class FlashMessages: @unchecked Sendable {
    private let lock = NSLock()
    private var texts: [String: String] = [:]
    private var order: [String] = []
    static let capacity = 500

    /// Keeps `text`; the id to put in the redirect.
    func keep(_ text: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let id = (0..<12).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        lock.withLock {
            texts[id] = text
            order.append(id)
            if order.count > Self.capacity { texts[order.removeFirst()] = nil }
        }
        return id
    }

    /// The text kept under `id`; nil for an id this process never gave out.
    func take(_ id: String) -> String? { lock.withLock { texts[id] } }
}
