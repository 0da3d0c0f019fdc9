#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CZstd

/// Small POSIX file helpers (no `Foundation` on the data path).
public enum Files {
    /// Creates `path` and its parents.
    public static func makeDirectories(_ path: String) throws {
        if path.isEmpty { return }
        var st = stat()
        if stat(path, &st) == 0 {
            if (st.st_mode & S_IFMT) == S_IFDIR { return }
            throw IOError(.failed, path: path, message: "exists and is not a directory")
        }
        let parent = dirname(of: path)
        if parent != path && !parent.isEmpty { try makeDirectories(parent) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw IOError(path: path, errno: errno, doing: "cannot create directory") }
    }

    public static func dirname(of path: String) -> String {
        guard let i = path.lastIndex(of: "/") else { return "." }
        return i == path.startIndex ? "/" : String(path[..<i])
    }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// Reads a whole file (sized up front for regular files, so a large registry is read once).
    public static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw IOError(path: path, errno: errno, doing: "cannot open") }
        defer { close(fd) }
        var st = stat()
        let size = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG ? Int(st.st_size) : 0
        var out = [UInt8](repeating: 0, count: max(size + 1, 1 << 16))   // +1: EOF is seen without growing
        var filled = 0
        while true {
            if filled == out.count { out.append(contentsOf: repeatElement(0, count: out.count)) }
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw IOError(path: path, errno: errno, doing: "cannot read")
            }
            if n == 0 { break }
            filled += n
        }
        out.removeLast(out.count - filled)
        return out
    }

    /// Writes a file whole like ``writeAtomically(_:_:sync:)-(String,UnsafeRawBufferPointer,Bool)``,
    /// from chunks `body` hands to its `write` function (large files without one big buffer).
    public static func writeAtomically(_ path: String, sync: Bool = true, _ body: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let dir = dirname(of: path)
        try makeDirectories(dir)
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw IOError(path: tmp, errno: errno, doing: "cannot create") }
        do {
            try body { chunk in try writeAll(fd, chunk, path: tmp) }
            if sync && fsync(fd) != 0 { throw IOError(path: tmp, errno: errno, doing: "fsync failed") }
        } catch {
            close(fd)
            unlink(tmp)
            throw error
        }
        close(fd)
        if rename(tmp, path) != 0 { throw IOError(path: path, errno: errno, doing: "cannot rename into place") }
        if sync { syncDirectory(dir) }
    }

    /// Writes `bytes` to `path` whole: a temporary name, fsync, rename, fsync of the directory.
    /// A reader never sees half a file; a crash leaves the old file or the new one.
    public static func writeAtomically(_ path: String, _ bytes: UnsafeRawBufferPointer, sync: Bool = true) throws {
        try writeAtomically(path, sync: sync) { write in try write(bytes) }
    }

    public static func writeAtomically(_ path: String, _ bytes: [UInt8], sync: Bool = true) throws {
        try bytes.withUnsafeBytes { (p) throws in try writeAtomically(path, p, sync: sync) }
    }

    public static func syncDirectory(_ dir: String) {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
    }

    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var off = 0
        while off < bytes.count {
            let n = write(fd, bytes.baseAddress! + off, bytes.count - off)
            if n < 0 {
                if errno == EINTR { continue }
                throw IOError(path: path, errno: errno, doing: "write failed")
            }
            off += n
        }
    }
}

/// A buffered output file, plain or zstd-compressed (one frame, streamed), for `simulate` and
/// anything else that writes large files sequentially. `"-"` is standard output.
public final class OutputFile {
    public let path: String
    private let fd: Int32
    private var buffer: [UInt8] = []
    private let cctx: OpaquePointer?
    private var zbuf: UnsafeMutableRawBufferPointer
    private let chunk = 1 << 20

    /// Opens `path` for writing (truncating); compresses when `compress` is true, or by default when
    /// the name ends in `.zst`.
    public init(path: String, compress: Bool? = nil, level: Int32 = 3) throws {
        self.path = path
        if path == "-" {
            fd = 1
        } else {
            try Files.makeDirectories(Files.dirname(of: path))
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            if fd < 0 { throw IOError(path: path, errno: errno, doing: "cannot create") }
        }
        if compress ?? path.hasSuffix(".zst") {
            let c = ZSTD_createCCtx()
            ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level)
            cctx = c
        } else {
            cctx = nil
        }
        zbuf = .allocate(byteCount: Int(ZSTD_CStreamOutSize()), alignment: 16)
        buffer.reserveCapacity(chunk + 4096)
    }

    deinit {
        if let cctx { ZSTD_freeCCtx(cctx) }
        zbuf.deallocate()
    }

    /// Appends bytes.
    @inline(__always)
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= chunk { try drain(end: false) }
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { (p) throws in try write(p) }
    }

    public func write(_ s: String) throws {
        var s = s
        try s.withUTF8 { (p) throws in try write(UnsafeRawBufferPointer(p)) }
    }

    /// Finishes the frame, flushes, and closes the file (fsync when asked).
    public func close(sync: Bool = false) throws {
        try drain(end: true)
        if fd != 1 {
            if sync { fsync(fd) }
            Glibc.close(fd)
        }
    }

    private func drain(end: Bool) throws {
        guard let cctx else {
            try buffer.withUnsafeBytes { (p) throws in try Files.writeAll(self.fd, p, path: self.path) }
            buffer.removeAll(keepingCapacity: true)
            return
        }
        let fd = self.fd, zbuf = self.zbuf, path = self.path
        var err: (any Error)?
        buffer.withUnsafeBytes { p in
            var inBuf = ZSTD_inBuffer(src: p.baseAddress, size: p.count, pos: 0)
            while true {
                var outBuf = ZSTD_outBuffer(dst: zbuf.baseAddress, size: zbuf.count, pos: 0)
                let r = ZSTD_compressStream2(cctx, &outBuf, &inBuf, end ? ZSTD_e_end : ZSTD_e_continue)
                if ZSTD_isError(r) != 0 { err = IOError(.malformed, path: path, message: "zstd: " + String(cString: ZSTD_getErrorName(r))); return }
                if outBuf.pos > 0 {
                    do { try Files.writeAll(fd, UnsafeRawBufferPointer(rebasing: zbuf[0..<outBuf.pos]), path: path) } catch { err = error; return }
                }
                if end ? r == 0 : inBuf.pos == inBuf.size { break }
            }
        }
        if let err { throw err }
        buffer.removeAll(keepingCapacity: true)
    }
}

extension Files {
    /// Names in a directory (without `.` and `..`), sorted by bytes.
    public static func list(_ dir: String) throws -> [String] {
        guard let d = opendir(dir) else { throw IOError(path: dir, errno: errno, doing: "cannot list") }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { p in
                String(decoding: p.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// Size of a file in bytes, nil when it cannot be stat'ed.
    public static func size(_ path: String) -> Int64? {
        var st = stat()
        return stat(path, &st) == 0 ? Int64(st.st_size) : nil
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Every file under `dir` whose name ends in `suffix`, depth first, sorted.
    public static func walk(_ dir: String, suffix: String) throws -> [String] {
        var out: [String] = []
        for name in try list(dir) {
            let p = dir + "/" + name
            if isDirectory(p) { out += try walk(p, suffix: suffix) } else if name.hasSuffix(suffix) { out.append(p) }
        }
        return out
    }
}
