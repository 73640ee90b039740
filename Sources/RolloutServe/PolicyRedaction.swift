import Foundation
import RolloutCore

/// The redactor of the policy as it is now: read again whenever policy.yaml changes, so a field marked
/// `secret: true` while serve runs is hidden on its pages and in its notifications from then on. Names it
/// has once known as secret stay secret (`Redactor.covering` adds, never removes). A policy that no longer
/// reads shows nothing (fail closed) until it is fixed.
final class PolicyRedaction: @unchecked Sendable {
    private let path: String
    private let log: @Sendable (String) -> Void
    private let lock = NSLock()
    private var stamp: FileStamp?
    private var redactor: Redactor
    private var readable = true

    /// Throws when the policy does not load now: serve does not start without its redaction rules.
    init(path: String, key: [UInt8], log: @escaping @Sendable (String) -> Void) throws {
        self.path = path
        self.log = log
        stamp = FileStamp.of(path)
        redactor = Redactor(policy: try Policy.load(path: path), key: key)
    }

    /// The redactor, the policy read again when its file's stamp changed; nil while it does not read.
    func current() -> Redactor? {
        lock.withLock {
            let now = FileStamp.of(path)
            if now != stamp {
                stamp = now
                do {
                    redactor = redactor.covering(try Policy.load(path: path))
                    if !readable { log("serve: \(path) reads again") }
                    readable = true
                } catch {
                    if readable { log("serve: \(path) no longer reads (\(error)); no arguments are shown or announced until it is fixed") }
                    readable = false
                }
            }
            return readable ? redactor : nil
        }
    }
}
