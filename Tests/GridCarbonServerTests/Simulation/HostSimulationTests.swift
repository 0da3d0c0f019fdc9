import Dispatch
import GridCarbonEngine
@testable import GridCarbonIO
import GridCarbonModel
@testable import GridCarbonServer
import Logging
import NIOConcurrencyHelpers
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A deterministic simulation of the daemon's host, in the manner of TigerBeetle's VOPR: the real
/// `EngineHost` over a ``SimulatedLogStorage``, driven by a seeded feed and a simulated clock,
/// with crashes, torn writes, failed fsyncs and damaged checkpoints injected from the seed. After
/// every recovery the host must hold at least every acknowledged step and be exactly the state of
/// a fault-free run after some step; at the end, aggregate files, side outputs and counts must be
/// byte-identical to the fault-free run's.
@Suite struct HostSimulationTests {
    /// What a run left behind.
    struct Outcome: Equatable {
        var aggregates: [String: [UInt8]]
        var sideOutputs: [String: [UInt8]]
        var counts: [Int]
        var crashes = 0
        static func == (a: Outcome, b: Outcome) -> Bool {
            a.aggregates == b.aggregates && a.sideOutputs == b.sideOutputs && a.counts == b.counts
        }
    }

    /// Engine state that tells steps apart: lines counted and the watermark.
    struct Mark: Equatable, Sendable {
        var total: Int
        var watermark: Micros
    }

    final class SimClock: Sendable {
        let value = NIOLockedValueBox<Micros>(SimulatedFeed.dayStart)
        var now: Micros {
            get { value.withLockedValue { $0 } }
            set { value.withLockedValue { $0 = newValue } }
        }
        var host: HostClock { HostClock(now: { self.now }, monotonic: { Double(self.now) / 1e6 }) }
    }

    static func scratch(_ name: String) -> String {
        let dir = "/tmp/gridcarbon-sim-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(name)"
        try! Files.makeDirectories(dir)
        return dir
    }

    static func configuration(_ dir: String) -> ServeConfiguration {
        var c = ServeConfiguration()
        c.dataDirectory = dir
        c.walSegmentBytes = 16 << 10
        c.checkpointBytes = 24 << 10
        c.fsync = .batch
        return c
    }

    static func host(_ dir: String, _ feed: SimulatedFeed, _ storage: SimulatedLogStorage, _ clock: SimClock) throws -> EngineHost {
        var logger = Logger(label: "sim")
        logger.logLevel = .critical
        return try EngineHost(configuration: configuration(dir), registryCSV: feed.registryCSV, logger: logger,
                              clock: clock.host, logStorage: storage)
    }

    static func mark(_ host: EngineHost) async -> Mark {
        await host.read { Mark(total: $0.counts.total, watermark: $0.watermark) }
    }

    /// Applies step `i` of the feed; false when the host died doing it (the log failed).
    static func apply(_ step: SimulatedFeed.Step, to host: EngineHost, clock: SimClock) async -> Bool {
        switch step {
        case .batch(let lines, let at):
            clock.now = at
            do { _ = try await host.submit(lines, source: "sim") } catch { return false }
        case .idle(let at):
            clock.now = at
            let lsn: Int64? = await host.onQueue {
                host.tick()
                return host.wal.failure == nil ? host.wal.endLSN : nil
            }
            guard let lsn else { return false }
            do { try await host.wal.durable(lsn) } catch { return false }
        }
        return true
    }

    static func outcome(_ dir: String, _ host: EngineHost, crashes: Int) async throws -> Outcome {
        await host.shutdown()
        let counts = await host.read { e in [e.counts.accepted, e.counts.duplicate, e.counts.rejected, e.counts.late] }
        var aggregates: [String: [UInt8]] = [:]
        for f in try Files.walk(dir + "/aggregates", suffix: ".csv.zst") {
            aggregates[String(f.dropFirst(dir.count))] = try Files.read(f)
        }
        var sides: [String: [UInt8]] = [:]
        for kind in ["rejected", "late", "anomalies"] {
            var all: [UInt8] = []
            for f in try Files.walk(dir + "/" + kind, suffix: ".zst").sorted() { all += try Zstd.decompress(try Files.read(f)) }
            sides[kind] = all
        }
        return Outcome(aggregates: aggregates, sideOutputs: sides, counts: counts, crashes: crashes)
    }

    /// The fault-free run, with the engine's mark after every step.
    static func reference(_ feed: SimulatedFeed, name: String) async throws -> (Outcome, [Mark]) {
        let dir = scratch(name)
        let clock = SimClock()
        let host = try host(dir, feed, SimulatedLogStorage(), clock)
        var marks = [await mark(host)]
        for step in feed.steps {
            #expect(await apply(step, to: host, clock: clock))
            marks.append(await mark(host))
        }
        return (try await outcome(dir, host, crashes: 0), marks)
    }

    /// The same feed with faults drawn from `seed`.
    static func faulty(_ feed: SimulatedFeed, marks: [Mark], seed: UInt64, name: String) async throws -> Outcome {
        let dir = scratch(name)
        var rng = SimRandom(seed: seed)
        let clock = SimClock()
        var storage = SimulatedLogStorage()
        var host = try host(dir, feed, storage, clock)
        var acknowledged = 0   // steps 0..<acknowledged are acknowledged
        var next = 0
        var crashes = 0
        while next < feed.steps.count {
            var crash = false
            switch rng.below(100) {
            case 0..<5: crash = true                                             // the process dies between steps
            case 5..<9: storage.crashInNextAppend(after: rng.below(48))        // dies halfway through a write
            case 9..<12: storage.failNextSync()                                 // the disk reports EIO
            default: break
            }
            if !crash {
                if await apply(feed.steps[next], to: host, clock: clock) {
                    next += 1
                    acknowledged = next
                    continue
                }
            }
            // Crash: what was not synced is kept whole, torn or lost; sometimes the newest
            // checkpoint is damaged too. The next process recovers from what is on disk.
            crashes += 1
            let keep = rng.below(3)
            storage = storage.crash { _, unsynced in keep == 0 ? 0 : keep == 1 ? unsynced : rng.below(unsynced + 1) }
            if rng.below(4) == 0 { try damageNewestCheckpoint(dir, &rng) }
            // The restart comes right after the last acknowledged step: the step that failed never
            // happened for the outside world, and its wall time is still to come (an idle step
            // needs `idle_timeout` of quiet after the restart).
            clock.now = acknowledged > 0 ? feed.steps[acknowledged - 1].at : SimulatedFeed.dayStart
            host = try Self.host(dir, feed, storage, clock)
            let m = await mark(host)
            guard let j = marks.lastIndex(of: m) else {
                Issue.record("seed \(seed): after crash \(crashes) the host is in a state no fault-free step reaches: \(m)")
                throw CancellationError()
            }
            #expect(j >= acknowledged, "seed \(seed): crash \(crashes) lost acknowledged steps: recovered to step \(j), \(acknowledged) acknowledged")
            next = j   // a client resends what was not acknowledged; what recovery already holds is not sent again
        }
        return try await outcome(dir, host, crashes: crashes)
    }

    static func damageNewestCheckpoint(_ dir: String, _ rng: inout SimRandom) throws {
        let store = CheckpointStore(directory: dir + "/checkpoint", logger: Logger(label: "sim"))
        guard let newest = try store.list().last else { return }
        let path = "\(dir)/checkpoint/\(newest.name)"
        var bytes = try Files.read(path)
        guard !bytes.isEmpty else { return }
        bytes[rng.below(bytes.count)] ^= 0x5A
        try Files.writeAtomically(path, bytes)
    }

    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6, 7, 8])
    func crashesTornWritesAndFailedFsyncsChangeNoOutput(seed: UInt64) async throws {
        let feed = SimulatedFeed(seed: seed)
        let (expected, marks) = try await Self.reference(feed, name: "ref-\(seed)")
        #expect(!expected.aggregates.isEmpty && expected.counts[0] > 0)
        #expect(expected.counts[2] > 0 && expected.counts[1] > 0, "the feed has rejected and duplicate lines")
        let got = try await Self.faulty(feed, marks: marks, seed: seed &* 7919, name: "faulty-\(seed)")
        #expect(got.crashes > 0, "seed \(seed) injected no fault")
        #expect(got.counts == expected.counts, "seed \(seed): counts")
        #expect(got.aggregates.keys.sorted() == expected.aggregates.keys.sorted(), "seed \(seed): aggregate files")
        for (name, bytes) in expected.aggregates where got.aggregates[name] != bytes {
            Issue.record("seed \(seed): \(name) differs after \(got.crashes) crashes")
        }
        for (kind, bytes) in expected.sideOutputs {
            if got.sideOutputs[kind] != bytes {
                Issue.record("seed \(seed): \(kind) side output differs after \(got.crashes) crashes (\(got.sideOutputs[kind]?.count ?? 0) bytes, \(bytes.count) expected)")
            }
        }
    }
}
