#if canImport(Glibc)
import Glibc
#endif

/// Splits a request body, as its decoded bytes arrive, into pieces for an ``IngestSink``: batches
/// of whole lines of about `batchBytes`, and over-long lines (over `max_line_bytes`, the same
/// limit and reason as TCP: reference §6) by their first 256 bytes. Each byte is copied once, into
/// the batch that carries it.
struct HTTPBodyLines {
    enum Piece {
        /// Whole lines, each ending in a newline; `first` is the body line number of the first.
        case lines([UInt8], first: Int64, count: Int64)
        /// An over-long line's first 256 bytes and a newline; `line` is its body line number.
        case tooLong([UInt8], line: Int64)
    }

    let maxLineBytes: Int
    let batchBytes: Int
    /// Whole lines not handed out yet (`pending[..<lineStart]`), then the line being read.
    private var pending: [UInt8] = []
    private var lineStart = 0
    private var pendingLines: Int64 = 0
    /// Body line number of the first line in `pending`.
    private var firstLine: Int64 = 1
    /// Inside an over-long line already handed out: its bytes are dropped up to its newline.
    private var skipping = false
    private var ready: [Piece] = []

    init(maxLineBytes: Int, batchBytes: Int = 1 << 20) {
        self.maxLineBytes = maxLineBytes
        self.batchBytes = batchBytes
    }

    /// Takes the next decoded bytes.
    mutating func feed(_ p: UnsafeRawBufferPointer) {
        guard let base = p.baseAddress else { return }
        let n = p.count
        var i = 0
        while i < n {
            let nl = memchr(base + i, 0x0A, n - i)
            let end = nl.map { base.distance(to: UnsafeRawPointer($0)) } ?? n
            let next = nl == nil ? n : end + 1
            if skipping {
                if nl != nil { skipping = false }
                i = next
                continue
            }
            if pending.count - lineStart + (end - i) > maxLineBytes {
                var prefix = Array(pending[lineStart...].prefix(256))
                if prefix.count < 256 { prefix.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[i..<min(end, i + 256 - prefix.count)])) }
                prefix.append(0x0A)
                pending.removeSubrange(lineStart...)
                flushWholeLines()
                ready.append(.tooLong(prefix, line: firstLine))
                firstLine += 1
                skipping = nl == nil
                i = next
                continue
            }
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[i..<next]))
            if nl != nil {
                pendingLines += 1
                lineStart = pending.count
            }
            i = next
        }
        if lineStart >= batchBytes { flushWholeLines() }
    }

    /// The end of the body: a last line without newline is taken as if it had one.
    mutating func finish() {
        if !skipping && pending.count > lineStart {
            pending.append(0x0A)
            pendingLines += 1
            lineStart = pending.count
        }
        skipping = false
        flushWholeLines()
    }

    /// The pieces ready, in body order.
    mutating func take() -> [Piece] {
        defer { ready = [] }
        return ready
    }

    private mutating func flushWholeLines() {
        guard pendingLines > 0 else { return }
        var batch = pending
        pending = Array(pending[lineStart...])
        batch.removeSubrange(lineStart...)
        ready.append(.lines(batch, first: firstLine, count: pendingLines))
        firstLine += pendingLines
        pendingLines = 0
        lineStart = 0
    }
}
