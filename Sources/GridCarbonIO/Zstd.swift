import CZstd

/// Whole-buffer zstd compression: one call, one frame.
public enum Zstd {
    /// Compresses `input` into a single zstd frame. Level 3 (zstd's default) is fast and deterministic:
    /// the same bytes in give the same bytes out with the same library.
    public static func compress(_ input: UnsafeRawBufferPointer, level: Int32 = 3) throws -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        var out = [UInt8](repeating: 0, count: bound)
        let n = out.withUnsafeMutableBytes { o in
            ZSTD_compress(o.baseAddress, bound, input.baseAddress, input.count, level)
        }
        if ZSTD_isError(n) != 0 { throw ZstdError(n) }
        out.removeLast(bound - n)
        return out
    }

    public static func compress(_ input: [UInt8], level: Int32 = 3) throws -> [UInt8] {
        try input.withUnsafeBytes { (p) throws in try compress(p, level: level) }
    }

    /// Decompresses every frame of `input` (concatenated frames included).
    public static func decompress(_ input: [UInt8]) throws -> [UInt8] {
        let d = ZstdDecompressor()
        var out: [UInt8] = []
        try input.withUnsafeBytes { (p) throws in
            try d.feed(p) { chunk in out.append(contentsOf: chunk) }
        }
        try d.finish()
        return out
    }
}

/// Streaming decompression of one or more concatenated frames.
public final class ZstdDecompressor {
    private let ctx: OpaquePointer
    private var out: UnsafeMutableRawBufferPointer
    private var midFrame = false

    /// - Parameter windowLogMax: the largest window a frame may ask for, as a power of two (zstd's
    ///   `ZSTD_d_windowLogMax`); nil keeps zstd's default (128 MiB).
    public init(outputChunk: Int = 1 << 20, windowLogMax: Int32? = nil) {
        ctx = ZSTD_createDStream()
        ZSTD_initDStream(ctx)
        if let windowLogMax { ZSTD_DCtx_setParameter(ctx, ZSTD_d_windowLogMax, windowLogMax) }
        out = .allocate(byteCount: outputChunk, alignment: 16)
    }

    /// Whether the bytes fed so far stop inside a frame.
    public var insideFrame: Bool { midFrame }

    /// Decodes from `input` until about `budget` bytes are out, or the input is used up with no
    /// output pending; `sink` receives each chunk (valid only during the call; what it throws is
    /// rethrown as is). Returns the input bytes consumed and whether output may still be pending
    /// for the input consumed (call again, with the rest of the input or none).
    /// - Throws: ``ZstdError`` `.windowTooLarge` for a frame over `windowLogMax`, `.library` for
    ///   bytes that are not zstd.
    public func step(_ input: UnsafeRawBufferPointer, budget: Int,
                     _ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> (consumed: Int, more: Bool) {
        var inBuf = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var produced = 0
        while true {
            var outBuf = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
            let r = ZSTD_decompressStream(ctx, &outBuf, &inBuf)
            if ZSTD_isError(r) != 0 {
                if ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge {
                    throw ZstdError(.windowTooLarge, message: String(cString: ZSTD_getErrorName(r)))
                }
                throw ZstdError(r)
            }
            midFrame = r != 0
            if outBuf.pos > 0 { try sink(UnsafeRawBufferPointer(rebasing: out[0..<outBuf.pos])) }
            produced += outBuf.pos
            let full = outBuf.pos == outBuf.size
            if inBuf.pos == inBuf.size && !full { return (inBuf.pos, false) }
            if produced >= budget { return (inBuf.pos, true) }
        }
    }

    deinit {
        ZSTD_freeDStream(ctx)
        out.deallocate()
    }

    /// Feeds compressed bytes; `sink` receives each decompressed chunk (valid only during the call).
    public func feed(_ input: UnsafeRawBufferPointer, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var inBuf = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            var outBuf = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
            let r = ZSTD_decompressStream(ctx, &outBuf, &inBuf)
            if ZSTD_isError(r) != 0 { throw ZstdError(r) }
            midFrame = r != 0
            if outBuf.pos > 0 {
                do { try sink(UnsafeRawBufferPointer(rebasing: out[0..<outBuf.pos])) } catch {
                    throw ZstdError(.consumer, message: "\(error)")
                }
            }
            if inBuf.pos == inBuf.size && outBuf.pos < outBuf.size { break }
        }
    }

    /// Checks the input did not stop in the middle of a frame.
    public func finish() throws {
        if midFrame { throw ZstdError(message: "input ends inside a zstd frame (truncated file?)") }
    }
}

/// Streaming compression into one frame per ``flush()`` (side outputs append frames).
public final class ZstdStreamCompressor {
    private let ctx: OpaquePointer
    private var out: UnsafeMutableRawBufferPointer

    public init(level: Int32 = 3) {
        ctx = ZSTD_createCCtx()
        ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, level)
        out = .allocate(byteCount: Int(ZSTD_CStreamOutSize()), alignment: 16)
    }

    deinit {
        ZSTD_freeCCtx(ctx)
        out.deallocate()
    }

    /// Compresses `input` as a complete frame, handing compressed bytes to `sink`.
    public func frame(_ input: UnsafeRawBufferPointer, _ sink: (UnsafeRawBufferPointer) -> Void) throws {
        var inBuf = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            var outBuf = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
            let remaining = ZSTD_compressStream2(ctx, &outBuf, &inBuf, ZSTD_e_end)
            if ZSTD_isError(remaining) != 0 { throw ZstdError(remaining) }
            if outBuf.pos > 0 { sink(UnsafeRawBufferPointer(rebasing: out[0..<outBuf.pos])) }
            if remaining == 0 { break }
        }
    }
}
