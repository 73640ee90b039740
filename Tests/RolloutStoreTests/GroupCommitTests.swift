import Foundation
import RolloutCore
import RolloutTestSupport
import Testing

@testable import RolloutStore

/// Group commit: writes that wait while another commits share one transaction; what throws rolls back
/// alone (the group runs again, each write in its own savepoint); nothing is answered before its commit.
@Suite("Store: group commit")
struct GroupCommitTests {
    /// Holds the store's group worker inside a first write until released, so the writes submitted
    /// meanwhile must queue and then commit together: grouping without relying on timing.
    /// The held write blocks the worker's thread (never one of the tasks' threads) on `release`.
    final class Gate: @unchecked Sendable {
        private let lock = NSLock()
        private var inside = false
        let release = DispatchSemaphore(value: 0)

        func enter() {
            lock.withLock { inside = true }
            release.wait()
        }

        /// Waits, without blocking a thread, until the held write is running.
        func entered() async throws {
            while !lock.withLock({ inside }) { try await Task.sleep(nanoseconds: 1_000_000) }
        }
    }

    /// The group worker held inside a first write (event 1) until `release`.
    struct HeldWorker {
        let gate: Gate
        let write: Task<Int64, any Error>

        /// Lets the held write finish; returns its sequence number.
        func release() async throws -> Int64 {
            gate.release.signal()
            return try await write.value
        }
    }

    /// Holds `store`'s group worker: writes submitted until `release` queue behind the held one.
    static func holdWorker(_ store: AuditStore) async throws -> HeldWorker {
        let gate = Gate()
        // Queued, so it runs on the worker's thread, not on one of the few the tasks share.
        let write = Task {
            try await PendingWrite { tx in
                gate.enter()
                return try tx.append(sampleEvent(0)).seq
            }.wait(in: store.groupCommit, queued: true)
        }
        try await gate.entered()
        return HeldWorker(gate: gate, write: write)
    }

    static func waitUntilQueued(_ store: AuditStore, _ count: Int) async throws {
        let deadline = Date().addingTimeInterval(30)
        while store.groupCommit.queued < count {
            #expect(Date() < deadline, "only \(store.groupCommit.queued) of \(count) writes queued")
            if Date() >= deadline { return }
            try await Task.sleep(nanoseconds: 1_000_000)
        }
    }

    @Test("63 writes queued behind a held one commit as one group, in submission order, and the chain verifies", arguments: TestStores.kinds)
    func queuedWritesShareACommit(kind: StoreKind) async throws {
        let store = try TestStores.make(kind)
        let held = try await Self.holdWorker(store)
        let seqs = try await withThrowingTaskGroup(of: (Int, Int64).self) { group in
            for i in 1...63 {
                group.addTask { (i, try await store.writeGrouped { tx in try tx.append(sampleEvent(i)).seq }) }
                try await Self.waitUntilQueued(store, i)   // one at a time, so the queue's order is known
            }
            #expect(try await held.release() == 1)
            var out: [Int: Int64] = [:]
            for try await (i, seq) in group { out[i] = seq }
            return out
        }
        #expect((1...63).map { seqs[$0] } == (2...64).map { Int64($0) }, "each write got the next sequence number in order")
        #expect(store.groupCommitStatistics == GroupCommitCounts(groups: 2, writes: 64, largest: 63))
        let check = try store.verify()
        #expect(check.ok && check.checked == 64)
        #expect(try store.event(seq: 40)?.reason == sampleEvent(39).reason)
    }

    struct Planted: Error, Equatable { let i: Int }

    @Test("a write that throws in a group rolls back alone: its event and its other rows are gone, the others commit", arguments: TestStores.kinds)
    func failingWriteRollsBackAlone(kind: StoreKind) async throws {
        let store = try TestStores.make(kind)
        let held = try await Self.holdWorker(store)
        let outcomes = try await withThrowingTaskGroup(of: (Int, Result<Int64, Planted>).self) { group in
            for i in 1...20 {
                group.addTask {
                    do {
                        let seq = try await store.writeGrouped { tx in
                            let seq = try tx.append(sampleEvent(i)).seq
                            try tx.sql.execute("INSERT INTO store_meta (key, value) VALUES (?, ?)", [.text("planted-\(i)"), .text("x")])
                            if i % 5 == 0 { throw Planted(i: i) }
                            return seq
                        }
                        return (i, .success(seq))
                    } catch let planted as Planted {
                        return (i, .failure(planted))
                    }
                }
                try await Self.waitUntilQueued(store, i)
            }
            _ = try await held.release()
            var out: [Int: Result<Int64, Planted>] = [:]
            for try await (i, outcome) in group { out[i] = outcome }
            return out
        }
        let kept = (1...20).filter { $0 % 5 != 0 }
        #expect(kept.map { try? outcomes[$0]?.get() } == (2...17).map { Int64($0) }, "the writes after a failed one take its place in the chain")
        for i in stride(from: 5, through: 20, by: 5) { #expect(outcomes[i].map { if case .failure(let p) = $0 { p.i == i } else { false } } == true) }
        #expect(try store.meta("planted-5") == nil && store.meta("planted-4") == "x")
        let check = try store.verify()
        #expect(check.ok && check.checked == 17)
        #expect(try store.event(seq: 17)?.reason == sampleEvent(19).reason)
    }
}

extension GroupCommitTests {
    @Test("a statement that fails inside one write of a group fails that write, not the next (PostgreSQL reports errors late)",
          arguments: TestStores.kinds)
    func lateErrorBlamedOnItsWrite(kind: StoreKind) async throws {
        let store = try TestStores.make(kind)
        try store.setMeta("taken", "x")
        let held = try await Self.holdWorker(store)
        // A's last statement breaks a constraint; PostgreSQL answers it only at the next round trip.
        async let a: Int64 = store.writeGrouped { tx in
            let seq = try tx.append(sampleEvent(1)).seq
            try tx.sql.execute("INSERT INTO store_meta (key, value) VALUES ('taken', 'again')", [])
            return seq
        }
        try await Self.waitUntilQueued(store, 1)
        // B writes, then reads.
        async let b: Int64 = store.writeGrouped { tx in
            let seq = try tx.append(sampleEvent(2)).seq
            _ = try tx.sql.query("SELECT count(*) FROM store_meta", [])
            return seq
        }
        try await Self.waitUntilQueued(store, 2)
        _ = try await held.release()
        let aFailed: Bool
        do { _ = try await a; aFailed = false } catch { aFailed = true }
        #expect(aFailed, "A's constraint error is A's")
        #expect(try await b == 2, "B takes the place A would have had")
        let check = try store.verify()
        #expect(check.ok && check.checked == 2)
        #expect(try store.event(seq: 2)?.reason == sampleEvent(2).reason)
        #expect(try store.meta("taken") == "x")
    }
}

extension GroupCommitTests {
    struct Abandoned: Error {}

    @Test("a write that sends a failing statement and then gives up fails alone; the others of its group commit", arguments: TestStores.kinds)
    func failedStatementThenThrow(kind: StoreKind) async throws {
        let store = try TestStores.make(kind)
        try store.setMeta("taken", "x")
        let held = try await Self.holdWorker(store)
        async let a: Int64 = store.writeGrouped { tx in
            _ = try tx.append(sampleEvent(1))
            // On PostgreSQL this statement's error is still on its way when the write throws.
            try? tx.sql.execute("INSERT INTO store_meta (key, value) VALUES ('taken', 'again')", [])
            throw Abandoned()
        }
        try await Self.waitUntilQueued(store, 1)
        async let b: Int64 = store.writeGrouped { tx in try tx.append(sampleEvent(2)).seq }
        try await Self.waitUntilQueued(store, 2)
        _ = try await held.release()
        var aError: (any Error)?
        do { _ = try await a } catch { aError = error }
        #expect(aError is Abandoned, "A fails with its own error: \(String(describing: aError))")
        #expect(try await b == 2)
        let check = try store.verify()
        #expect(check.ok && check.checked == 2)
    }
}

extension GroupCommitTests {
    /// How many times each write's body ran, by write.
    final class Runs: @unchecked Sendable {
        private let lock = NSLock()
        private var counts: [Int: Int] = [:]
        func count(_ i: Int) { lock.withLock { counts[i, default: 0] += 1 } }
        func of(_ i: Int) -> Int { lock.withLock { counts[i] ?? 0 } }
    }

    @Test("on SQLite a group runs without savepoints and each write once; when one throws, the others run again from the state before the group and answer that run",
          arguments: [false, true])
    func groupRunsAgainWhenOneThrows(oneThrows: Bool) async throws {
        let store = try TestStores.temporarySQLite()
        let runs = Runs()
        let held = try await Self.holdWorker(store)
        let outcomes = try await withThrowingTaskGroup(of: (Int, Result<String, Planted>).self) { group in
            for i in 1...4 {
                group.addTask {
                    do {
                        let seen = try await store.writeGrouped { tx -> String in
                            runs.count(i)
                            // What the write saw: the rows the writes before it left, as one after another would.
                            let before = try tx.sql.query("SELECT key FROM store_meta WHERE key LIKE 'run-%' ORDER BY key", []).map { $0.string(0) }
                            try tx.sql.execute("INSERT INTO store_meta (key, value) VALUES (?, ?)", [.text("run-\(i)"), .text("x")])
                            _ = try tx.append(sampleEvent(i))
                            if oneThrows, i == 2 { throw Planted(i: i) }
                            return before.joined(separator: ",")
                        }
                        return (i, .success(seen))
                    } catch let planted as Planted {
                        return (i, .failure(planted))
                    }
                }
                try await Self.waitUntilQueued(store, i)
            }
            _ = try await held.release()
            var out: [Int: Result<String, Planted>] = [:]
            for try await (i, outcome) in group { out[i] = outcome }
            return out
        }
        if oneThrows {
            #expect((1...4).map(runs.of) == [2, 2, 1, 1], "the group ran again; the writes after the one that threw ran only then")
            #expect(try outcomes[1]?.get() == "" && outcomes[3].map { (try? $0.get()) == "run-1" } == true && (try? outcomes[4]?.get()) == "run-1,run-3",
                    "each saw only what the writes before it committed: never the rows of the write that threw")
            #expect(try store.meta("run-2") == nil && store.meta("run-3") == "x")
            #expect(try store.verify().checked == 4)
        } else {
            #expect((1...4).map(runs.of) == [1, 1, 1, 1])
            #expect((try? outcomes[4]?.get()) == "run-1,run-2,run-3")
            #expect(try store.verify().checked == 5)
        }
        #expect(try store.verify().ok)
    }
}
