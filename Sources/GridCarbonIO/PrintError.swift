#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes to standard error without `Foundation`.
public func printError(_ s: String) {
    var line = s
    line.withUTF8 { p in _ = write(2, p.baseAddress, p.count) }
}
