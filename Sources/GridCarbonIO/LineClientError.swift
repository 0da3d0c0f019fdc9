#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import GridCarbonModel

/// Why a ``LineClient`` could not connect, or a line did not arrive.
public struct LineClientError: CategorizedError {
    /// What went wrong; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Base: Hashable, Sendable { case cannotResolve, cannotConnect, closedBeforeLine }
        let base: Base

        /// The host name did not resolve.
        public static let cannotResolve = Code(base: .cannotResolve)
        /// The socket could not be made or the connection was refused.
        public static let cannotConnect = Code(base: .cannotConnect)
        /// The connection ended (closed by the peer, a failed or timed-out read) before a newline.
        public static let closedBeforeLine = Code(base: .closedBeforeLine)

        /// What the code means, for messages.
        public var description: String {
            switch base {
            case .cannotResolve: "cannot resolve"
            case .cannotConnect: "cannot connect"
            case .closedBeforeLine: "connection closed before a line"
            }
        }
    }

    /// What went wrong.
    public let code: Code
    /// The host of the connection, as given.
    public let host: String
    /// The port of the connection.
    public let port: UInt16
    /// The system's error number, when a system call failed.
    public let errno: Int32?
    /// With ``Code/closedBeforeLine``: the bytes that arrived before the connection ended.
    public let received: [UInt8]
    /// Where the error was thrown.
    public let file: String
    public let line: Int

    /// An error of `code` on the connection to `host`:`port`.
    public init(code: Code, host: String, port: UInt16, errno: Int32? = nil, received: [UInt8] = [],
                file: String = #fileID, line: Int = #line) {
        self.code = code
        self.host = host
        self.port = port
        self.errno = errno
        self.received = received
        self.file = file
        self.line = line
    }

    /// The system's message for ``errno`` (`Connection refused`), or nil.
    public var systemMessage: String? { errno.map { String(cString: strerror($0)) } }

    /// A network peer that is not there or hangs up is a problem of the input side: exit status 1.
    public var category: FailureCategory { .badInput }

    /// `host:port: what went wrong: the system's message`, and for a line cut short what arrived.
    public var description: String {
        var s = "\(host):\(port): \(code)"
        if let systemMessage { s += ": \(systemMessage)" }
        if code == .closedBeforeLine { s += "; got '\(String(decoding: received, as: UTF8.self))'" }
        return s
    }
}
