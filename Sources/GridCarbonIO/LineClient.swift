#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking TCP client that sends bytes and reads the answers line by line: `simulate --send`
/// streaming records to a daemon, and the tests talking to a daemon they started.
///
/// The socket is closed exactly once, by `deinit`. A class whose initializer throws after every
/// stored property is set still runs `deinit`, so the initializer never closes the socket itself:
/// a second `close` could close a descriptor another thread has just been given.
public final class LineClient {
    /// The host connected to, as given.
    public let host: String
    /// The port connected to.
    public let port: UInt16
    /// The connected socket.
    public let fd: Int32

    /// Connects to `host` (a name or an address) on `port`, to the first address the resolver
    /// gives. With `receiveTimeout` (seconds), a read that waits longer fails.
    public init(host: String, port: UInt16, receiveTimeout: Int? = nil) throws(LineClientError) {
        self.host = host
        self.port = port
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &res) == 0, let ai = res else {
            throw LineClientError(code: .cannotResolve, host: host, port: port)
        }
        defer { freeaddrinfo(res) }
        fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
        if fd < 0 || connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) != 0 {
            // No close here: deinit closes fd (every stored property is set by now).
            throw LineClientError(code: .cannotConnect, host: host, port: port, errno: errno)
        }
        if let receiveTimeout {
            var tv = timeval(tv_sec: receiveTimeout, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Sends all of `bytes`.
    public func send(_ bytes: UnsafeRawBufferPointer) throws {
        try Files.writeAll(fd, bytes, path: "tcp")
    }

    /// Sends all of `bytes`.
    public func send(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try send($0) }
    }

    /// Sends `text` as UTF-8.
    public func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    /// Reads up to the next newline and returns the line without it. When the connection ends
    /// first (closed by the peer, a failed or timed-out read), throws
    /// ``LineClientError/Code/closedBeforeLine`` with what did arrive.
    public func readLine() throws(LineClientError) -> String {
        var out: [UInt8] = []
        var c: UInt8 = 0
        while true {
            let n = recv(fd, &c, 1, 0)
            if n <= 0 {
                throw LineClientError(code: .closedBeforeLine, host: host, port: port, errno: n < 0 ? errno : nil, received: out)
            }
            if c == 0x0A { return String(decoding: out, as: UTF8.self) }
            out.append(c)
        }
    }

    /// Reads until the peer closes the connection (or a read fails) and returns every byte read.
    public func readAll() -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return out }
            out.append(contentsOf: buf[0..<n])
        }
    }
}
