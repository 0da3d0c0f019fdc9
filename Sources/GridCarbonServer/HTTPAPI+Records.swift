import GridCarbonEngine
import GridCarbonModel
import GridCarbonStream
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore

/// The bounds on an HTTP ingest body (reference §6).
public struct HTTPBodyLimits: Sendable {
    /// Largest body, received and decoded (`max_body_bytes`).
    public var maxBodyBytes: Int
    /// Longest line (`max_line_bytes`, as over TCP).
    public var maxLineBytes: Int
    /// The slow-client allowance (`http_idle_timeout`).
    public var idleTimeout: Micros

    public init(_ configuration: ServeConfiguration) {
        maxBodyBytes = configuration.maxBodyBytes
        maxLineBytes = configuration.maxLineBytes
        idleTimeout = configuration.load.httpIdleTimeout
    }
}

extension HTTPAPI {
    /// `POST /v1/records` (reference §6): the body's lines to `sink` as they arrive, answered with
    /// the counts and the first rejections once the sink has made them durable. A gateway that
    /// could not get them stored answers 503 `not_stored`: send them again.
    static func addRecords(to router: Router<BasicRequestContext>, sink: any IngestSink, limits: HTTPBodyLimits) {
        router.post("/v1/records") { request, _ -> Response in
            let outcome = try await RecordsBody.take(request, sink: sink, limits: limits)
            var out: [UInt8] = [0x7B]
            for (k, v) in [("accepted", outcome.counts.accepted), ("duplicate", outcome.counts.duplicate), ("rejected", outcome.counts.rejected), ("late", outcome.counts.late)] {
                JSONBytes.appendKey(k, to: &out); NumberFormat.appendInt(v, &out); out.append(0x2C)
            }
            JSONBytes.appendKey("rejections", to: &out); out.append(0x5B)
            for (i, r) in outcome.rejections.enumerated() {
                if i > 0 { out.append(0x2C) }
                out.append(0x7B)
                JSONBytes.appendKey("line", to: &out); NumberFormat.appendInt(Int(r.line), &out); out.append(0x2C)
                JSONBytes.appendKey("reason", to: &out); JSONBytes.appendString(r.reason, to: &out); out.append(0x2C)
                JSONBytes.appendKey("text", to: &out); JSONBytes.appendString(r.text, to: &out)
                out.append(0x7D)
            }
            out.append(contentsOf: [0x5D, 0x7D, 0x0A])
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: out)))
        }
    }
}

/// One ingest body, read as a stream: decoded (``HTTPBodyDecoder``), split into pieces of whole
/// lines (``HTTPBodyLines``), each handed to the sink once the engine queue has room and stored
/// before the next is read. A body cut off (413, 408, 400 `bad_encoding`) keeps the pieces stored
/// before the cut; the error's message says how many lines that was.
enum RecordsBody {
    /// Rejections listed in the answer.
    static let capture = 10

    static func take(_ request: Request, sink: any IngestSink, limits: HTTPBodyLimits) async throws -> BatchOutcome {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limits.maxBodyBytes {
            throw HTTPBodyDecoder.tooLarge(limits.maxBodyBytes)
        }
        let taken = NIOLockedValueBox<Int64>(0)
        do {
            return try await HTTPBodyClock.bounding(limits.idleTimeout) { clock in
                try await read(request, sink: sink, limits: limits, clock: clock, taken: taken)
            }
        } catch var e as APIError {
            let n = taken.withLockedValue { $0 }
            if n > 0 { e.message += "; the first \(n) lines of the body were taken" }
            throw e
        } catch let e as ForwardError {
            // A gateway whose stream did not store the lines: send them again (here or elsewhere).
            throw APIError(.serviceUnavailable, "not_stored", e.message)
        }
    }

    /// The next piece of a request body, timed by `clock` (the slow-client bound); nil at its end.
    static func nextPiece(_ body: inout RequestBody.AsyncIterator, clock: HTTPBodyClock) async throws -> ByteBuffer? {
        clock.waiting()
        let piece = try await body.next()
        clock.received(piece?.readableBytes ?? 0)
        if piece != nil { try Task.checkCancellation() }
        return piece
    }

    static func read(_ request: Request, sink: any IngestSink, limits: HTTPBodyLimits, clock: HTTPBodyClock,
                     taken: NIOLockedValueBox<Int64>) async throws -> BatchOutcome {
        let decoder = try HTTPBodyDecoder(encoding: request.headers[.contentEncoding], limit: limits.maxBodyBytes)
        var lines = HTTPBodyLines(maxLineBytes: limits.maxLineBytes)
        var total = BatchOutcome()
        var body = request.body.makeAsyncIterator()
        while let piece = try await nextPiece(&body, clock: clock) {
            try decoder.push(piece)
            // Step by step, each step's lines stored (the engine queue's room awaited) before the
            // next is decoded: memory stays about one step whatever the compression ratio.
            while try decoder.step({ lines.feed($0) }) {
                try await hand(lines.take(), to: sink, total: &total, taken: taken)
                try Task.checkCancellation()
            }
            try await hand(lines.take(), to: sink, total: &total, taken: taken)
        }
        try decoder.finish()
        lines.finish()
        try await hand(lines.take(), to: sink, total: &total, taken: taken)
        return total
    }

    /// Hands pieces to the sink in order, each once the engine queue has room, adding up the outcomes.
    static func hand(_ pieces: [HTTPBodyLines.Piece], to sink: any IngestSink, total: inout BatchOutcome,
                     taken: NIOLockedValueBox<Int64>) async throws {
        for piece in pieces {
            await sink.queueGate?.waitForRoom()
            let outcome: BatchOutcome
            switch piece {
            case .lines(let bytes, let first, let count):
                outcome = try await sink.submit(bytes, source: "http", client: nil, capture: max(0, capture - total.rejections.count))
                total.rejections += outcome.rejections.map { (line: first + $0.line - 1, reason: $0.reason, text: $0.text) }
                taken.withLockedValue { $0 += count }
            case .tooLong(let prefix, let line):
                outcome = try await withCheckedThrowingContinuation { c in
                    sink.reject(prefix, reason: .lineTooLong, source: "http", client: nil) { c.resume(with: $0) }
                }
                if total.rejections.count < capture {
                    total.rejections.append((line: line, reason: RejectReason.lineTooLong.code, text: String(decoding: prefix.dropLast(), as: UTF8.self)))
                }
                taken.withLockedValue { $0 += 1 }
            }
            total.counts.accepted += outcome.counts.accepted
            total.counts.duplicate += outcome.counts.duplicate
            total.counts.rejected += outcome.counts.rejected
            total.counts.late += outcome.counts.late
        }
    }
}
