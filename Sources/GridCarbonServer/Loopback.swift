#if canImport(Glibc)
import Glibc
#endif

/// Whether a listening address is loopback, decided on what it resolves to (reference §6): every
/// address `getaddrinfo` gives must be in 127.0.0.0/8, `::1` or `::ffff:127.0.0.0/104`. A name
/// that only looks like one (`127.0.0.1.example.com`) is judged by its addresses; one that does not
/// resolve is not loopback (tokens stay required).
public enum Loopback {
    /// True when `host` resolves, and to loopback addresses only.
    public static func contains(_ host: String) -> Bool {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &res) == 0, let first = res else { return false }
        defer { freeaddrinfo(first) }
        var node: UnsafeMutablePointer<addrinfo>? = first
        var any = false
        while let ai = node {
            guard let sa = ai.pointee.ai_addr, isLoopback(sa) else { return false }
            any = true
            node = ai.pointee.ai_next
        }
        return any
    }

    /// Whether a socket address is a loopback one.
    static func isLoopback(_ sa: UnsafePointer<sockaddr>) -> Bool {
        switch Int32(sa.pointee.sa_family) {
        case AF_INET:
            return sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                UInt32(bigEndian: sin.pointee.sin_addr.s_addr) >> 24 == 127
            }
        case AF_INET6:
            return sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                let b = withUnsafeBytes(of: sin6.pointee.sin6_addr) { Array($0) }
                if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return true }   // ::1
                return b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xFF && b[11] == 0xFF && b[12] == 127   // ::ffff:127.x
            }
        default:
            return false
        }
    }
}
