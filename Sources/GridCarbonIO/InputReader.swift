import CZstd
import GridCarbonEngine
import GridCarbonModel

#if canImport(Glibc)
import Glibc
#endif

/// What an ``InputReader`` hands whole lines to: the engine (replay), or `publish`'s router. An
/// error thrown stops the reading and comes out of ``InputReader/read(into:progress:)``.
public protocol LineSink: AnyObject {
    /// Takes every complete line (ending with `\n`) of `buffer`; returns the bytes taken, through
    /// the last newline. `line` is the number of the first line and is advanced past those taken.
    func lines(_ buffer: UnsafeRawBufferPointer, line: inout Int64) throws -> Int
    /// The input's last line, which has no newline.
    func lastLine(_ line: UnsafeRawBufferPointer, number: Int64) throws
    /// A line longer than the reader's bound: its first 256 bytes, to be rejected `line_too_long`.
    func tooLong(_ prefix: UnsafeRawBufferPointer, number: Int64) throws
}

/// The engine as a ``LineSink``, its lines counted under one source name.
final class EngineLines: LineSink {
    let engine: Engine
    let source: Int32

    init(_ engine: Engine, source: Int32) {
        self.engine = engine
        self.source = source
    }

    func lines(_ buffer: UnsafeRawBufferPointer, line: inout Int64) -> Int {
        engine.ingest(buffer, source: source, line: &line)
    }

    func lastLine(_ line: UnsafeRawBufferPointer, number: Int64) {
        engine.ingestLine(line, origin: LineOrigin(source: source, line: number))
    }

    func tooLong(_ prefix: UnsafeRawBufferPointer, number: Int64) {
        engine.reject(.lineTooLong, line: prefix, origin: LineOrigin(source: source, line: number))
    }
}

/// Reads record lines from a file, a `.zst` file or standard input (`-`) in large blocks and
/// hands whole lines to the engine (or any ``LineSink``). Lines longer than `maxLineBytes` are
/// rejected as `line_too_long` and skipped to the next newline, so memory stays bounded.
public final class InputReader {
    public let path: String
    public let maxLineBytes: Int
    let block: Int
    /// Bytes read from the file (compressed size for `.zst`).
    public private(set) var bytesRead: Int = 0
    /// Lines handed to the engine so far.
    public private(set) var lines: Int64 = 0
    /// Size of the input file in bytes (0 for a pipe or standard input).
    public private(set) var size: Int = 0

    public init(path: String, maxLineBytes: Int = 1 << 20, block: Int = 4 << 20) {
        self.path = path
        self.maxLineBytes = maxLineBytes
        self.block = block
    }

    /// Whether a path is read as zstd: by its `.zst` suffix, or by the zstd magic number on stdin.
    static func isZstd(path: String) -> Bool { path.hasSuffix(".zst") }

    /// Reads the whole input into `engine`. `progress` is called after every block.
    public func run(into engine: Engine, sourceName: String, progress: (InputReader) -> Void = { _ in }) throws {
        try read(into: EngineLines(engine, source: engine.source(named: sourceName)), progress: progress)
    }

    /// Reads the whole input into `sink`. `progress` is called after every block.
    public func read(into sink: some LineSink, progress: (InputReader) -> Void = { _ in }) throws {
        let fd: Int32 = path == "-" ? 0 : open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw IOError(path: path, errno: errno, doing: "cannot open") }
        defer { if fd != 0 { close(fd) } }
        var st = stat()
        if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG { size = Int(st.st_size) }
        let cap = block + maxLineBytes + 1
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: cap, alignment: 64)
        defer { buf.deallocate() }
        var filled = 0
        var skipping = false   // inside an over-long line, dropping bytes to the next newline
        var lineNo: Int64 = 1

        // Hands over whatever complete lines `buf[0..<filled]` holds and keeps the tail. The sink
        // sees at most `maxLineBytes + 1` bytes at a time, so every line it takes fits the bound
        // (newline included), and a window without a newline is an over-long line, whether or not
        // its newline is in this block (a 2 MB line is `line_too_long` in a 4 MB block too).
        func consume() throws {
            var start = 0
            while true {
                if skipping {
                    guard let nl = memchr(buf.baseAddress! + start, 0x0A, filled - start) else { filled = 0; return }
                    start = buf.baseAddress!.distance(to: UnsafeMutableRawPointer(nl)) + 1
                    skipping = false
                    lineNo += 1
                }
                let end = min(filled, start + maxLineBytes + 1)
                start += try sink.lines(UnsafeRawBufferPointer(rebasing: buf[start..<end]), line: &lineNo)
                if end - start > maxLineBytes {
                    try sink.tooLong(UnsafeRawBufferPointer(rebasing: buf[start..<(start + min(256, end - start))]), number: lineNo)
                    skipping = true
                    continue
                }
                if end == filled { break }
            }
            let rest = filled - start
            if rest > 0 && start > 0 {
                memmove(buf.baseAddress!, buf.baseAddress! + start, rest)
            }
            filled = rest
            lines = lineNo - 1
        }

        if Self.isZstd(path: path) {
            let dctx = ZSTD_createDStream()
            defer { ZSTD_freeDStream(dctx) }
            ZSTD_initDStream(dctx)
            let inCap = 1 << 20
            let zin = UnsafeMutableRawBufferPointer.allocate(byteCount: inCap, alignment: 64)
            defer { zin.deallocate() }
            var midFrame = false
            var eof = false
            var inBuf = ZSTD_inBuffer(src: zin.baseAddress, size: 0, pos: 0)
            while true {
                if inBuf.pos == inBuf.size && !eof {
                    let n = try readSome(fd, zin.baseAddress!, inCap)
                    if n == 0 { eof = true } else {
                        bytesRead += n
                        inBuf = ZSTD_inBuffer(src: zin.baseAddress, size: n, pos: 0)
                    }
                }
                if eof && inBuf.pos == inBuf.size { break }
                var outBuf = ZSTD_outBuffer(dst: buf.baseAddress! + filled, size: min(block, cap - filled), pos: 0)
                let r = ZSTD_decompressStream(dctx, &outBuf, &inBuf)
                if ZSTD_isError(r) != 0 {
                    throw IOError(.malformed, path: path, message: "not valid zstd (\(String(cString: ZSTD_getErrorName(r))))")
                }
                midFrame = r != 0
                filled += outBuf.pos
                if filled >= block || (outBuf.pos == 0 && inBuf.pos == inBuf.size) {
                    try consume()
                    progress(self)
                }
            }
            if midFrame { throw IOError(.malformed, path: path, message: "zstd input ends inside a frame (truncated file?)") }
        } else {
            while true {
                let n = try readSome(fd, buf.baseAddress! + filled, min(block, cap - filled))
                if n == 0 { break }
                bytesRead += n
                filled += n
                try consume()
                progress(self)
            }
        }
        try consume()
        if skipping {
            // The input ended inside an over-long last line: it was rejected, and it is a line.
            lineNo += 1
        } else if filled > 0 {
            try sink.lastLine(UnsafeRawBufferPointer(rebasing: buf[0..<filled]), number: lineNo)
            lineNo += 1
        }
        lines = lineNo - 1
        progress(self)
    }

    func readSome(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) throws -> Int {
        while true {
            let r = Glibc.read(fd, p, n)
            if r >= 0 { return r }
            if errno == EINTR { continue }
            throw IOError(path: path, errno: errno, doing: "cannot read")
        }
    }
}
