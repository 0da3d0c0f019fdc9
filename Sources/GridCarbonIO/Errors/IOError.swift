#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import GridCarbonModel

/// An I/O failure with the path and the system's reason: a file or folder that cannot be opened,
/// read, written, synced or renamed, or whose bytes cannot be decoded. Bad input data (exit
/// status 1). Problems that are not I/O (a bad configuration, a bad rule) have error types of
/// their own.
public struct IOError: CategorizedError {
    /// What failed; extended with static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, for logs.
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// A system call failed; the message holds `strerror`.
        public static let systemCall = Code("systemCall")
        /// The file's bytes cannot be used: not zstd, cut off inside a frame, a damaged log.
        public static let malformed = Code("malformed")
        /// Files that should be there are not (log segments a checkpoint needs).
        public static let missing = Code("missing")
        /// Any other I/O failure.
        public static let failed = Code("failed")
    }

    /// What failed.
    public var code: Code
    /// The file or folder.
    public var path: String
    /// Why, for people.
    public var message: String
    /// Where in gridcarbon the error was made.
    public var file: String
    public var line: Int

    /// A failure at `path`; `code` defaults to ``Code/failed``.
    public init(_ code: Code = .failed, path: String, message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.path = path
        self.message = message
        self.file = file
        self.line = line
    }

    /// A system call that failed with `errno` `e` while doing `what` (``Code/systemCall``).
    public init(path: String, errno e: Int32, doing what: String, file: String = #fileID, line: Int = #line) {
        self.init(.systemCall, path: path, message: "\(what): \(String(cString: strerror(e)))", file: file, line: line)
    }

    /// `path: message`.
    public var description: String { "\(path): \(message)" }
    public var category: FailureCategory { .badInput }
}
