// zlib through compress-nio's module (the one zlib linked into the daemon).
import CCompressZlib

/// A gzip body inflated step by step over zlib, each step's output bounded, so that a body that
/// inflates far is read at the pace its lines are stored (reference §6). Unlike a decoder that
/// stops when the input is used up, a step drains the output zlib still holds, and ``ended`` says
/// whether the input so far ends at the end of a member (a body that does not is truncated).
///
/// A body may hold several members one after the other (RFC 1952 §2.2, what `cat a.gz b.gz` or a
/// producer compressing each batch gives): their contents follow each other, as `gzip -d` reads
/// them. Bytes after a member that are not another member are 400 `bad_encoding`, not ignored.
final class GzipStepDecoder {
    private let stream: UnsafeMutablePointer<z_stream>
    private let out: UnsafeMutableRawBufferPointer
    /// The input so far ends at the end of a member (its trailer checked).
    private(set) var ended = false

    /// zlib's error, for the message of 400 `bad_encoding`.
    struct Failure: Error { let message: String }

    init(outputChunk: Int = 64 * 1024) throws(Failure) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        out = .allocate(byteCount: outputChunk, alignment: 16)
        // 16 + 15: a gzip header and a window of up to 32 KiB.
        let rt = CCompressZlib_inflateInit2(stream, 16 + 15)
        if rt != Z_OK {
            stream.deinitialize(count: 1); stream.deallocate(); out.deallocate()
            throw Failure(message: "gzip decoder failed to start (\(rt))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        out.deallocate()
    }

    /// Inflates from `input` until about `budget` bytes are out, or the input is used up and zlib
    /// holds no more output, or the member ends; `sink` receives each chunk (valid during the
    /// call). Returns the input bytes consumed (all of them after the end) and whether output may
    /// still be pending (call again).
    func step(_ input: UnsafeRawBufferPointer, budget: Int,
              _ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> (consumed: Int, more: Bool) {
        if ended {
            if input.isEmpty { return (0, false) }
            // Another member follows.
            let rt = inflateReset(stream)
            if rt != Z_OK { throw Failure(message: "gzip decoder failed to restart (\(rt))") }
            ended = false
        }
        let base = input.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: UInt8.self)) }
        stream.pointee.next_in = base
        stream.pointee.avail_in = UInt32(input.count)
        defer { stream.pointee.next_in = nil; stream.pointee.avail_in = 0 }
        var produced = 0
        while true {
            stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
            stream.pointee.avail_out = UInt32(out.count)
            let rt = inflate(stream, Z_NO_FLUSH)
            let n = out.count - Int(stream.pointee.avail_out)
            let consumed = input.count - Int(stream.pointee.avail_in)
            if n > 0 { try sink(UnsafeRawBufferPointer(rebasing: out[0..<n])) }
            produced += n
            switch rt {
            case Z_STREAM_END:
                ended = true
                if stream.pointee.avail_in == 0 { return (consumed, false) }
                // Another member follows in this input.
                let rt = inflateReset(stream)
                if rt != Z_OK { throw Failure(message: "gzip decoder failed to restart (\(rt))") }
                ended = false
                if produced >= budget { return (consumed, true) }
            case Z_OK, Z_BUF_ERROR:
                // Z_BUF_ERROR: no progress possible without more input.
                if rt == Z_BUF_ERROR || (stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0) {
                    return (consumed, false)
                }
                if produced >= budget { return (consumed, true) }
            default:
                let why = stream.pointee.msg.map { String(cString: $0) } ?? "error \(rt)"
                throw Failure(message: why)
            }
        }
    }
}
