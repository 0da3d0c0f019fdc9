import GridCarbonModel
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// The write-ahead log's segments as files: `<dir>/wal-<first LSN, 20 digits>.log`.
public final class FileLogStorage: LogStorage {
    /// The folder of the segments.
    public let directory: String
    /// How segment files are named.
    public static let names = SequenceName(prefix: "wal-", suffix: ".log")
    /// Open segments' file descriptors.
    private let open = NIOLockedValueBox<[Int64: Int32]>([:])

    /// Segments in `directory`, which is created when missing.
    public init(directory: String) throws {
        self.directory = directory
        try Files.makeDirectories(directory)
    }

    deinit {
        for fd in open.withLockedValue({ $0.values }) { Glibc.close(fd) }
    }

    /// Path of the segment starting at `segment`.
    public func path(_ segment: Int64) -> String { "\(directory)/\(Self.names.name(segment))" }

    public func segments() throws -> [Int64] {
        guard Files.isDirectory(directory) else { return [] }
        return Self.names.numbered(try Files.list(directory)).map(\.number)
    }

    public func read(_ segment: Int64) throws -> [UInt8] { try Files.read(path(segment)) }

    public func create(_ segment: Int64) throws {
        let fd = Glibc.open(path(segment), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if fd < 0 { throw IOError(path: path(segment), errno: errno, doing: "cannot create") }
        Files.syncDirectory(directory)
        open.withLockedValue { $0[segment] = fd }
    }

    public func openForAppend(_ segment: Int64) throws {
        let fd = Glibc.open(path(segment), O_WRONLY | O_APPEND | O_CLOEXEC)
        if fd < 0 { throw IOError(path: path(segment), errno: errno, doing: "cannot open") }
        open.withLockedValue { $0[segment] = fd }
    }

    private func fd(_ segment: Int64) -> Int32 {
        guard let fd = open.withLockedValue({ $0[segment] }) else { preconditionFailure("log segment \(segment) is not open") }
        return fd
    }

    public func append(_ segment: Int64, header: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) throws {
        let fd = fd(segment)
        var iov = [iovec(iov_base: UnsafeMutableRawPointer(mutating: header.baseAddress), iov_len: header.count),
                   iovec(iov_base: UnsafeMutableRawPointer(mutating: payload.baseAddress), iov_len: payload.count)]
        let total = header.count + payload.count
        var n = -1
        repeat { n = writev(fd, &iov, 2) } while n < 0 && errno == EINTR
        if n < 0 { throw IOError(path: path(segment), errno: errno, doing: "write-ahead log write failed") }
        if n < total {
            // A short write: finish the rest plainly.
            var all = [UInt8](header)
            all.append(contentsOf: payload)
            try all.withUnsafeBytes { try Files.writeAll(fd, UnsafeRawBufferPointer(rebasing: $0[n...]), path: path(segment)) }
        }
    }

    public func sync(_ segment: Int64) throws {
        if fdatasync(fd(segment)) != 0 { throw IOError(path: path(segment), errno: errno, doing: "fsync failed") }
    }

    public func close(_ segment: Int64) {
        if let fd = open.withLockedValue({ $0.removeValue(forKey: segment) }) { Glibc.close(fd) }
    }

    public func truncate(_ segment: Int64, to size: Int) throws {
        let fd = Glibc.open(path(segment), O_WRONLY | O_CLOEXEC)
        if fd < 0 { throw IOError(path: path(segment), errno: errno, doing: "cannot open to cut its torn tail") }
        defer { Glibc.close(fd) }
        if ftruncate(fd, off_t(size)) != 0 || fsync(fd) != 0 {
            throw IOError(path: path(segment), errno: errno, doing: "cannot cut the torn tail")
        }
    }

    public func remove(_ segment: Int64) { unlink(path(segment)) }

    public func size(_ segment: Int64) -> Int64 {
        var st = stat()
        return stat(path(segment), &st) == 0 ? Int64(st.st_size) : 0
    }
}
