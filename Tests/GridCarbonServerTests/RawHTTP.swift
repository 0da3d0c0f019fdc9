import Foundation
import GridCarbonIO

#if canImport(Glibc)
import Glibc
#endif

/// A raw HTTP/1.1 exchange over a real socket, for what ``DaemonProcess/http(_:_:body:headers:)``
/// cannot do: send a request in parts, slowly, and see the answer's headers and whether the
/// daemon closed the connection.
final class RawHTTP {
    let client: LineClient

    init(port: Int) throws {
        client = try LineClient(port: port)
    }

    /// Sends bytes without SIGPIPE; false once the daemon has closed the connection.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { p in
            var off = 0
            while off < p.count {
                let n = Glibc.send(client.fd, p.baseAddress! + off, p.count - off, Int32(MSG_NOSIGNAL))
                if n <= 0 { return false }
                off += n
            }
            return true
        }
    }

    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Whether something (an answer, or the end of the connection) is there to read within `ms`.
    func readable(within ms: Int32) -> Bool {
        var p = pollfd(fd: client.fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, ms) > 0
    }

    /// Everything until the daemon closes the connection (or 20 s pass).
    func readToEnd() -> String {
        String(decoding: client.readAll(), as: UTF8.self)
    }

    /// A request head.
    static func head(_ method: String, _ path: String, length: Int, headers: [String: String] = [:]) -> String {
        var s = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(length)\r\n"
        for (k, v) in headers { s += "\(k): \(v)\r\n" }
        return s + "\r\n"
    }

    /// The status code of a raw answer.
    static func status(_ response: String) -> Int {
        Int(response.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}
