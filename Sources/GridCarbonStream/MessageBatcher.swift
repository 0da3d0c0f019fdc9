import GridCarbonModel

/// Gathers routed lines into messages, one subject per message, and hands full messages on in
/// the order that keeps the stream's order faithful to the input's.
///
/// A message holds whole record lines, each ending with `\n`, in input order, up to `maxLines`
/// lines or `maxBytes` bytes. Grid lines are barriers: a grid line first sends every open meter
/// message, a meter line first sends the open grid message. So for every partition `p`, the
/// stream holds `p`'s lines and the grid lines in their input order, which is what a worker
/// reading `p` and the grid sees. Each message's id is `<subject>:<ordinal>:<FNV-1a of the
/// payload, 16 hex digits>`, the ordinal counting the run's messages from 1: the same input
/// (with the same `P` and batch size) gives the same ids, and JetStream drops a resend.
final class MessageBatcher {
    /// Sends one message: subject index, payload, message id, line count.
    typealias Send = (Int, UnsafeRawBufferPointer, String, Int) throws -> Void

    /// Meter subjects `0..<grid`, then the grid subject.
    let subjects: [String]
    let grid: Int
    let maxLines: Int
    let maxBytes: Int
    let send: Send
    var buffers: [[UInt8]]
    var lineCounts: [Int]
    /// Subjects holding lines, in the order their first line came.
    var open: [Int] = []
    /// Messages sent so far.
    private(set) var ordinal = 0

    init(layout: StreamLayout, partitions: Int, maxLines: Int, maxBytes: Int, send: @escaping Send) {
        subjects = layout.subjects(partitions: partitions)
        grid = partitions
        self.maxLines = max(1, maxLines)
        self.maxBytes = maxBytes
        self.send = send
        buffers = Array(repeating: [], count: subjects.count)
        lineCounts = Array(repeating: 0, count: subjects.count)
    }

    /// Adds `line` (without its newline) to subject `index` (a partition, or ``grid``).
    func add(_ line: UnsafeRawBufferPointer, to index: Int) throws {
        if index == grid {
            while let first = open.first, first != grid { try flush(first) }
        } else if lineCounts[grid] > 0 {
            try flush(grid)
        }
        if lineCounts[index] >= maxLines || (lineCounts[index] > 0 && buffers[index].count + line.count + 1 > maxBytes) {
            try flush(index)
        }
        if lineCounts[index] == 0 { open.append(index) }
        buffers[index].append(contentsOf: line)
        buffers[index].append(0x0A)
        lineCounts[index] += 1
    }

    /// Sends every open message, oldest first.
    func flushAll() throws {
        while let first = open.first { try flush(first) }
    }

    func flush(_ index: Int) throws {
        guard lineCounts[index] > 0 else { return }
        ordinal += 1
        let id = buffers[index].withUnsafeBytes { p in
            "\(subjects[index]):\(ordinal):\(Self.hex(Partitioning.fnv1a64(p)))"
        }
        try buffers[index].withUnsafeBytes { try send(index, $0, id, lineCounts[index]) }
        buffers[index].removeAll(keepingCapacity: true)
        lineCounts[index] = 0
        open.removeAll { $0 == index }
    }

    static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
