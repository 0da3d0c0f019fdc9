import GridCarbonIO
import NIOCore

/// A request body decoded as it arrives (`Content-Encoding: zstd|gzip|identity`), with
/// `max_body_bytes` applied to the bytes received and to the bytes decoded: decoding stops at the
/// limit, so a compression bomb costs no more than the limit (reference §6, 413 `body_too_large`).
/// Decoding is step-wise: each ``step(_:)`` hands out about ``stepBytes`` of decoded bytes, so that
/// the reader can wait for the engine queue between steps and hold about one step in memory,
/// whatever the compression ratio. A zstd frame may ask for a window of at most 8 MiB
/// (``zstdWindowLogMax``); a gzip member or zstd frame that does not end is 400 `bad_encoding`.
final class HTTPBodyDecoder {
    enum Kind {
        case identity
        case zstd(ZstdDecompressor)
        case gzip(GzipStepDecoder)
    }

    /// Decoded bytes handed out per step, about.
    static let stepBytes = 1 << 20
    /// The largest zstd window an HTTP body may ask for: 2^23 = 8 MiB.
    static let zstdWindowLogMax: Int32 = 23

    let kind: Kind
    let limit: Int
    /// Bytes received and bytes decoded so far.
    private(set) var received = 0
    private(set) var decoded = 0
    /// Received bytes not decoded yet.
    private var input = ByteBuffer()
    /// Output may still be pending for the input already consumed.
    private var pending = false

    /// - Throws: ``APIError`` 415 `bad_encoding` for an encoding other than zstd, gzip or identity.
    init(encoding: String?, limit: Int) throws(APIError) {
        self.limit = limit
        switch encoding?.lowercased() ?? "identity" {
        case "identity", "":
            kind = .identity
        case "zstd":
            kind = .zstd(ZstdDecompressor(outputChunk: 64 * 1024, windowLogMax: Self.zstdWindowLogMax))
        case "gzip":
            do { kind = .gzip(try GzipStepDecoder()) } catch {
                throw APIError(.internalServerError, "internal", error.message)
            }
        default:
            throw APIError(.unsupportedMediaType, "bad_encoding", "Content-Encoding must be zstd, gzip or identity")
        }
    }

    static func tooLarge(_ limit: Int) -> APIError {
        APIError(.contentTooLarge, "body_too_large", "request body (or its decompressed form) larger than \(limit) bytes")
    }

    /// Takes one received piece of the body, to be decoded by ``step(_:)``.
    /// - Throws: ``APIError`` 413 once the bytes received pass the limit.
    func push(_ piece: ByteBuffer) throws(APIError) {
        received += piece.readableBytes
        if received > limit { throw Self.tooLarge(limit) }
        if input.readableBytes == 0 { input = piece } else { input.writeImmutableBuffer(piece) }
    }

    /// Decodes about ``stepBytes`` of what was pushed, handing the decoded bytes to `out` (valid
    /// during the call). Returns whether there is more to decode from the bytes pushed so far.
    /// - Throws: ``APIError`` 413 once past the limit (nothing past it is decoded), 400
    ///   `bad_encoding` for bytes that do not decode; or what `out` throws.
    func step(_ out: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        func sink(_ chunk: UnsafeRawBufferPointer) throws {
            decoded += chunk.count
            if decoded > limit { throw Self.tooLarge(limit) }
            try out(chunk)
        }
        switch kind {
        case .identity:
            let n = min(input.readableBytes, Self.stepBytes)
            guard n > 0 else { return false }
            try input.withUnsafeReadableBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            input.moveReaderIndex(forwardBy: n)
            return input.readableBytes > 0
        case .zstd(let d):
            guard input.readableBytes > 0 || pending else { return false }
            let r: (consumed: Int, more: Bool)
            do {
                r = try input.withUnsafeReadableBytes { try d.step($0, budget: Self.stepBytes, sink) }
            } catch let e as ZstdError where e.code == .windowTooLarge {
                throw APIError(.badRequest, "bad_encoding",
                               "zstd frame asks for a window larger than \(1 << Self.zstdWindowLogMax) bytes (the limit for HTTP bodies)")
            } catch is ZstdError {
                throw APIError(.badRequest, "bad_encoding", "body is not valid zstd")
            }
            input.moveReaderIndex(forwardBy: r.consumed)
            pending = r.more
            return r.more || input.readableBytes > 0
        case .gzip(let d):
            guard input.readableBytes > 0 || pending else { return false }
            let r: (consumed: Int, more: Bool)
            do {
                r = try input.withUnsafeReadableBytes { try d.step($0, budget: Self.stepBytes, sink) }
            } catch let e as GzipStepDecoder.Failure {
                throw APIError(.badRequest, "bad_encoding", "body is not valid gzip: \(e.message)")
            }
            input.moveReaderIndex(forwardBy: r.consumed)
            pending = r.more
            return r.more || input.readableBytes > 0
        }
    }

    /// Takes one piece and decodes all of it (for bodies read whole, whose size is bounded by
    /// the limit anyway).
    func feed(_ piece: ByteBuffer, _ out: (UnsafeRawBufferPointer) throws -> Void) throws {
        try push(piece)
        while try step(out) {}
    }

    /// Checks the body did not stop inside a compressed frame (an empty body is no frame at all).
    /// - Throws: ``APIError`` 400 `bad_encoding`.
    func finish() throws(APIError) {
        switch kind {
        case .identity: break
        case .zstd(let d):
            if d.insideFrame { throw APIError(.badRequest, "bad_encoding", "body ends inside a zstd frame (zstd stream truncated)") }
        case .gzip(let d):
            if received > 0 && !d.ended { throw APIError(.badRequest, "bad_encoding", "gzip stream truncated: the body ends before the gzip trailer") }
        }
    }
}
