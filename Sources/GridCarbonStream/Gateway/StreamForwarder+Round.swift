import GridCarbonEngine
import GridCarbonIO
import GridCarbonModel

#if canImport(Glibc)
import Glibc
#endif

extension StreamForwarder {
    /// One round: route every batch, write the rejected lines, publish the messages step by step,
    /// then answer every batch in submission order.
    func forward(_ items: [Item]) {
        var outcomes = [ForwardOutcome](repeating: ForwardOutcome(), count: items.count)
        let blocked: [Bool] = monitor.locked { items.map { $0.closing || ($0.client.map { poisoned.contains($0) } ?? false) } }
        var messages: [Message] = []
        let batcher = MessageBatcher(layout: layout, partitions: partitions, maxLines: options.maxLinesPerMessage,
                                     maxBytes: min(options.maxBytesPerMessage, payloadLimit)) { index, payload, _, lines in
            messages.append(Message(subject: index, payload: Array(payload), lines: lines))
        }
        var result = ForwardReport()
        result.batches = items.count - items.filter(\.closing).count
        var failure: (any Error)?
        do {
            for (k, item) in items.enumerated() where !blocked[k] {
                try route(item, into: batcher, outcome: &outcomes[k])
            }
            try batcher.flushAll()
            try rejects?.flush()
            try publish(messages, report: &result)
        } catch {
            failure = error
        }
        if failure != nil {
            // Whatever of the round the stream did store, its clients send again: a fresh
            // publisher forgets the rest, and the clients' later batches wait for them to.
            if let fresh = try? JetStreamPublisher(connection, options: Self.publisherOptions(options)) { publisher = fresh }
            monitor.locked { for item in items { if let c = item.client { poisoned.insert(c) } } }
            result.failed = true
        }
        for (k, item) in items.enumerated() {
            if item.closing {
                continue
            } else if blocked[k] {
                result.failedLines += Self.lineCount(item)
                item.done(.failure(ForwardError(.earlierNotStored,
                    "not forwarded: an earlier batch of this connection was not stored; reconnect and send the lines after the last ok again")))
            } else if let failure {
                result.failedLines += Self.lineCount(item)
                item.done(.failure(ForwardError(.notStored,
                    "not stored in the stream (\(failure)); send the lines after the last ok again")))
            } else {
                result.forwarded += outcomes[k].forwarded
                result.rejected += outcomes[k].rejected
                item.done(.success(outcomes[k]))
            }
        }
        // Closed clients: every batch of theirs is answered now.
        let closed = items.filter(\.closing).compactMap(\.client)
        if !closed.isEmpty { monitor.locked { for c in closed { poisoned.remove(c) } } }
        if result.batches > 0 { report(result) }
    }

    /// Routes the lines of one batch into `batcher`, writing rejected ones to `DATA/rejected/`.
    func route(_ item: Item, into batcher: MessageBatcher, outcome: inout ForwardOutcome) throws {
        currentSource = item.source
        if let reason = item.refused {
            try item.lines.withUnsafeBytes { p in
                var n = p.count
                if n > 0 && p[n - 1] == 0x0A { n -= 1 }
                try reject(reason, UnsafeRawBufferPointer(rebasing: p[0..<n]), number: 1, capture: 0, outcome: &outcome)
            }
            return
        }
        try item.lines.withUnsafeBytes { p in
            guard let base = p.baseAddress else { return }
            var start = 0
            var number: Int64 = 1
            while start < p.count {
                let end = memchr(base + start, 0x0A, p.count - start).map { base.distance(to: UnsafeRawPointer($0)) } ?? p.count
                let line = UnsafeRawBufferPointer(rebasing: p[start..<end])
                if line.count > payloadLimit {
                    try reject(.lineTooLong, UnsafeRawBufferPointer(rebasing: line.prefix(256)), number: number, capture: item.capture, outcome: &outcome)
                } else {
                    switch router.route(line) {
                    case .skip:
                        break
                    case .meter(let partition):
                        outcome.forwarded += 1
                        try batcher.add(line, to: partition)
                    case .grid:
                        outcome.forwarded += 1
                        try batcher.add(line, to: batcher.grid)
                    case .rejected(let reason):
                        try reject(reason, line, number: number, capture: item.capture, outcome: &outcome)
                    }
                }
                number += 1
                start = end + 1
            }
        }
    }

    func reject(_ reason: RejectReason, _ line: UnsafeRawBufferPointer, number: Int64, capture: Int, outcome: inout ForwardOutcome) throws {
        outcome.rejected += 1
        if outcome.rejections.count < capture {
            outcome.rejections.append((number, reason.code, String(decoding: line.prefix(512), as: UTF8.self)))
        }
        if rejects == nil {
            let out = try OutputDirectory(root: dataDirectory, zone: EngineSettings().zone, registry: Registry(meterLevel: false),
                                          runName: "gateway-" + Replay.runStamp(Clock.now()), sync: true)
            out.sourceNames = { [unowned self] in [currentSource] }
            rejects = out
        }
        rejects!.receivedAt = Clock.now()
        rejects!.rejected(reason, line: line, origin: LineOrigin(source: 0, line: number))
    }

    /// Publishes `messages` in steps: at most one message per subject in a step, a grid message
    /// alone; each step acknowledged whole before the next.
    func publish(_ messages: [Message], report: inout ForwardReport) throws {
        let grid = partitions
        var step: [Message] = []
        var inStep = Set<Int>()
        for m in messages {
            let conflict = inStep.contains(m.subject) || (m.subject == grid ? !inStep.isEmpty : inStep.contains(grid))
            if conflict {
                try publishStep(step, report: &report)
                step.removeAll()
                inStep.removeAll()
            }
            step.append(m)
            inStep.insert(m.subject)
        }
        try publishStep(step, report: &report)
    }

    func publishStep(_ step: [Message], report: inout ForwardReport) throws {
        guard !step.isEmpty else { return }
        let before = publisher.counts
        for m in step {
            let id = m.payload.withUnsafeBytes { "\(subjects[m.subject]):gw:\(MessageBatcher.hex(Partitioning.fnv1a64($0)))" }
            try m.payload.withUnsafeBytes { try publisher.publish(subject: subjects[m.subject], payload: $0, messageID: id, lines: m.lines) }
        }
        let after = try publisher.finish()
        report.messages += after.messages - before.messages
        report.duplicates += after.duplicates - before.duplicates
        report.resent += after.resent - before.resent
    }

    static func lineCount(_ item: Item) -> Int {
        item.lines.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }
}
