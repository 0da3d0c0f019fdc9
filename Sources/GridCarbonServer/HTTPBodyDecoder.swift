import CompressNIO
import GridCarbonIO
import NIOCore

/// A request body decoded as it arrives (`Content-Encoding: zstd|gzip|identity`), with
/// `max_body_bytes` applied to the bytes received and to the bytes decoded: decoding stops at the
/// limit, so a compression bomb costs no more than the limit (reference §6, 413 `body_too_large`).
final class HTTPBodyDecoder {
    enum Kind {
        case identity
        case zstd(ZstdDecompressor)
        case gzip(any NIODecompressor)
    }

    let kind: Kind
    let limit: Int
    /// Bytes received and bytes decoded so far.
    private(set) var received = 0
    private(set) var decoded = 0
    private var gzipEnded = false
    private var scratch = ByteBuffer()

    /// - Throws: ``APIError`` 415 `bad_encoding` for an encoding other than zstd, gzip or identity.
    init(encoding: String?, limit: Int) throws(APIError) {
        self.limit = limit
        switch encoding?.lowercased() ?? "identity" {
        case "identity", "":
            kind = .identity
        case "zstd":
            kind = .zstd(ZstdDecompressor(outputChunk: 64 * 1024))
        case "gzip":
            let d = CompressionAlgorithm.gzip().decompressor
            do { try d.startStream() } catch {
                throw APIError(.internalServerError, "internal", "gzip decoder: \(error)")
            }
            kind = .gzip(d)
            scratch = ByteBufferAllocator().buffer(capacity: 64 * 1024)
        default:
            throw APIError(.unsupportedMediaType, "bad_encoding", "Content-Encoding must be zstd, gzip or identity")
        }
    }

    static func tooLarge(_ limit: Int) -> APIError {
        APIError(.contentTooLarge, "body_too_large", "request body (or its decompressed form) larger than \(limit) bytes")
    }

    /// Decodes one piece of the body, handing the decoded bytes to `out` (valid during the call).
    /// - Throws: ``APIError`` 413 once past the limit (nothing past it is decoded), 400
    ///   `bad_encoding` for bytes that do not decode; or what `out` throws.
    func feed(_ piece: ByteBuffer, _ out: (UnsafeRawBufferPointer) throws -> Void) throws {
        received += piece.readableBytes
        if received > limit { throw Self.tooLarge(limit) }
        switch kind {
        case .identity:
            decoded += piece.readableBytes
            try piece.withUnsafeReadableBytes { try out($0) }
        case .zstd(let d):
            var stop: (any Error)?
            do {
                try piece.withUnsafeReadableBytes { p in
                    try d.feed(p) { chunk in
                        decoded += chunk.count
                        if decoded > limit { stop = Self.tooLarge(limit); throw stop! }
                        do { try out(chunk) } catch { stop = error; throw error }
                    }
                }
            } catch {
                throw stop ?? APIError(.badRequest, "bad_encoding", "body is not valid zstd")
            }
        case .gzip(let d):
            var input = piece
            while input.readableBytes > 0 && !gzipEnded {
                scratch.clear()
                let before = input.readableBytes
                do {
                    try d.streamInflate(from: &input, to: &scratch)
                    // A normal return with input left is the end of the gzip member: bytes after it are ignored.
                    if input.readableBytes > 0 { gzipEnded = true }
                } catch let e as CompressNIOError where e == .bufferOverflow || e == .inputBufferOverflow {
                    // Output full (decode on) or input used up (wait for more).
                } catch {
                    throw APIError(.badRequest, "bad_encoding", "body is not valid gzip")
                }
                if scratch.readableBytes > 0 {
                    decoded += scratch.readableBytes
                    if decoded > limit { throw Self.tooLarge(limit) }
                    try scratch.withUnsafeReadableBytes { try out($0) }
                } else if input.readableBytes == before {
                    break
                }
            }
        }
    }

    /// Checks the body did not stop inside a compressed frame.
    func finish() throws(APIError) {
        switch kind {
        case .identity: break
        case .zstd(let d):
            do { try d.finish() } catch { throw APIError(.badRequest, "bad_encoding", "body ends inside a zstd frame") }
        case .gzip(let d):
            try? d.finishStream()
        }
    }
}
