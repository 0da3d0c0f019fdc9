import CNats

/// Turning libnats statuses into ``StreamError``s.
enum NATSStatus {
    /// libnats' own text for `s` or, when libnats recorded one for this failure on this thread, its
    /// detailed error (which carries the server's description for JetStream API errors), without
    /// the `(js.c:535): ` source location.
    static func text(_ s: natsStatus) -> String {
        let base = String(cString: natsStatus_GetText(s))
        var last = NATS_OK
        guard let p = nats_GetLastError(&last), last == s else { return base }
        var detail = Substring(String(cString: p))
        if detail.hasPrefix("("), let end = detail.firstRange(of: "): ") { detail = detail[end.upperBound...] }
        while detail.hasSuffix(" ") || detail.hasSuffix(":") { detail = detail.dropLast() }
        return detail.isEmpty ? base : String(detail)
    }

    /// Throws a ``StreamError`` of `code` (`what: reason`) unless `s` is `NATS_OK`.
    static func check(_ s: natsStatus, _ code: StreamError.Code, jetStreamCode: jsErrCode = jsErrCode(rawValue: 0),
                      _ what: @autoclosure () -> String, file: String = #fileID, line: Int = #line) throws(StreamError) {
        if s == NATS_OK { return }
        throw error(s, code, jetStreamCode: jetStreamCode, what(), file: file, line: line)
    }

    /// The ``StreamError`` for a failed call.
    static func error(_ s: natsStatus, _ code: StreamError.Code, jetStreamCode: jsErrCode = jsErrCode(rawValue: 0),
                      _ what: String, file: String = #fileID, line: Int = #line) -> StreamError {
        let jerr = Int(jetStreamCode.rawValue)
        let suffix = jerr != 0 ? " (JetStream error \(jerr))" : ""
        let c: StreamError.Code = s == NATS_CONNECTION_CLOSED ? .closed : code
        return StreamError(c, "\(what): \(text(s))\(suffix)", status: Int32(bitPattern: s.rawValue), jetStreamCode: jerr, file: file, line: line)
    }
}
