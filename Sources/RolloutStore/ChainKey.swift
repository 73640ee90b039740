import Crypto
import Foundation
import RolloutCore

/// The secret that signs the chain (`ROLLOUT_CHAIN_KEY`): each row written with it carries an
/// HMAC-SHA256 of its hash under the key, so a forged tail with recomputed hashes is caught by anyone
/// who verifies with the key, however well the forger rewrote the hashes. Without the key the chain is
/// still a hash chain that detects edits; with it, rewriting the tail needs the key too.
public struct ChainKey: Sendable, Hashable {
    let bytes: [UInt8]

    public init(_ secret: String) {
        bytes = Array(secret.utf8)
    }

    /// The key from `ROLLOUT_CHAIN_KEY`, when it is set and not empty.
    public static var fromEnvironment: ChainKey? {
        guard let value = ProcessInfo.processInfo.environment["ROLLOUT_CHAIN_KEY"], !value.isEmpty else { return nil }
        return ChainKey(value)
    }

    /// The signature of a row's hash.
    public func mac(hash: String) -> String {
        mac(of: "rollout-chain-row:" + hash)
    }

    /// The signature of the mark that says from which event a chain is signed: without it, moving the
    /// mark past the head would leave a rewritten chain with no row whose signature is checked.
    public func mac(keyedFrom from: Int64) -> String {
        mac(of: "rollout-chain-keyed-from:\(id):\(from)")
    }

    /// A name for the key that does not reveal it: which key signed a store.
    public var id: String {
        String(mac(of: "rollout-chain-key-id").prefix(16))
    }

    /// The signature of a compliance report's digest: a report made with the key can be told from one
    /// rewritten without it (its digests alone have no key).
    public func mac(reportDigest digest: String) -> String {
        mac(of: "rollout-report:" + digest)
    }

    /// The signature of a compliance report folder's SHA256SUMS: with it, report.html and writes.csv (which
    /// report.json cannot name by digest: the HTML states report.json's) are covered by the key too.
    public func mac(reportFiles sums: String) -> String {
        mac(of: "rollout-report-files:" + sums)
    }

    /// The signature of a fuzz report's verdict (`JUnitVerdictDigest`): the fuzz gate tells a report
    /// `rollout fuzz` made with the key from one edited or written without it.
    public func mac(fuzzReport digest: String) -> String {
        mac(of: "rollout-fuzz-report:" + digest)
    }

    /// The signature of an anchor.
    func mac(anchor: ChainAnchor) -> String {
        mac(of: "rollout-chain-anchor:\(anchor.seq):\(anchor.hash):\(anchor.time):\(anchor.keyedFrom.map(String.init) ?? "-")")
    }

    /// HMAC-SHA256 under the key, in hex. Each caller's text starts with its own domain (`rollout-report:`,
    /// `rollout-chain-row:`, ...), so a signature made for one kind of thing is never valid for another.
    private func mac(of text: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: bytes))).hexString
    }
}

/// The chain head written down for safekeeping outside the store (`rollout audit anchor`): a later
/// `audit verify --anchor FILE` proves the log still holds that event with that hash, so deleting the
/// tail and moving the head back, or replacing the log with a recomputed one, is caught.
public struct ChainAnchor: Sendable, Hashable {
    public var seq: Int64
    public var hash: String
    /// When it was taken (RFC 3339).
    public var time: String
    /// The first event signed with the chain key, when the chain is signed.
    public var keyedFrom: Int64?
    /// HMAC of the anchor under the chain key, when there was one.
    public var mac: String?

    public init(seq: Int64, hash: String, time: String, keyedFrom: Int64? = nil, mac: String? = nil) {
        self.seq = seq
        self.hash = hash
        self.time = time
        self.keyedFrom = keyedFrom
        self.mac = mac
    }

    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "format": "rollout-chain-anchor/1", "seq": .number(Double(seq)), "hash": .string(hash), "time": .string(time),
        ]
        if let keyedFrom { object["keyed_from"] = .number(Double(keyedFrom)) }
        if let mac { object["mac"] = .string(mac) }
        return .object(object)
    }

    /// Why this anchor does not hold for a chain signed from `keyedFrom` (nil: never signed) whose head is
    /// `headSeq`, checked with `key`, or nil when it may: the anchored event's own hash is compared where the
    /// rows are read. One check for verification and for the stretch behind approvals and rollbacks.
    public func problem(keyedFrom storeKeyedFrom: Int64?, key: ChainKey?, headSeq: Int64) -> String? {
        if let keyedFrom, keyedFrom != storeKeyedFrom {
            return "the anchor says the chain is signed from event \(keyedFrom), the store says \(storeKeyedFrom.map(String.init) ?? "never")"
        }
        if let mac, let key, key.mac(anchor: self) != mac {
            return "the anchor's signature does not match: it was edited or made with another key"
        }
        // `rollout audit anchor` signs the anchor of a chain already signed at its head: one without its signature
        // had it taken out with an edit, or was made by hand.
        if mac == nil, key != nil, let storeKeyedFrom, storeKeyedFrom <= seq {
            return "the anchor carries no signature, and the chain it names was signed by then (from event \(storeKeyedFrom)): rollout audit anchor signs such anchors, so this one was edited or made by hand"
        }
        if seq > headSeq {
            return "the anchor names event \(seq), and the log ends at event \(headSeq): events were removed from its end"
        }
        return nil
    }

    /// Reads an anchor file; throws `StoreError.badFile` naming the field when it is not one.
    public static func read(path: String) throws -> ChainAnchor {
        guard let data = FileManager.default.contents(atPath: path) else { throw StoreError.notFound("no anchor file at \(path)") }
        let value: JSONValue
        do {
            value = try JSONValue.parse(data)
        } catch {
            throw StoreError.badFile(file: path, line: error.line, field: "", message: "not JSON: \(error.message)")
        }
        func fail(_ field: String, _ message: String) -> StoreError { .badFile(file: path, line: 1, field: field, message: message) }
        guard value["format"] == "rollout-chain-anchor/1" else { throw fail("format", "is not rollout-chain-anchor/1") }
        guard let seq = value["seq"]?.intValue, seq >= 0 else { throw fail("seq", "is missing or not a whole number") }
        guard let hash = value["hash"]?.stringValue, hash.utf8.count == 64 else { throw fail("hash", "is missing or not a SHA-256 hex digest") }
        guard let time = value["time"]?.stringValue, Timestamp.parse(time) != nil else { throw fail("time", "is missing or not RFC 3339") }
        var keyedFrom: Int64?
        if let k = value["keyed_from"], !k.isNull {
            guard let n = k.intValue, n >= 1 else { throw fail("keyed_from", "is not a sequence number") }
            keyedFrom = Int64(n)
        }
        return ChainAnchor(seq: Int64(seq), hash: hash, time: time, keyedFrom: keyedFrom, mac: value["mac"]?.stringValue)
    }
}
