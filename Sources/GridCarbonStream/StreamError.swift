import GridCarbonModel

/// A failure of the message stream (reference §8): the NATS servers cannot be reached, JetStream refuses
/// a request, a message is not acknowledged, or the stream contradicts what was asked of it.
///
/// A stream whose partition count differs from the one asked for is a configuration error (exit
/// status 2: the command line contradicts the stream); everything else is bad input (exit status
/// 1: the servers named cannot be used), as with a daemon that cannot be reached.
public struct StreamError: CategorizedError {
    /// What failed; extended with static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, for logs.
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// No server in the URL list accepts a connection (or the URL list is malformed).
        public static let unreachable = Code("unreachable")
        /// A JetStream API request failed (stream or consumer management, stream info).
        public static let jetStream = Code("jetStream")
        /// The stream exists with another partition count (fixed when it was created).
        public static let partitionsMismatch = Code("partitionsMismatch")
        /// The stream exists but was not created by gridcarbon (its description says nothing of
        /// partitions).
        public static let foreignStream = Code("foreignStream")
        /// A message was not acknowledged by the stream in time, after retries.
        public static let notAcknowledged = Code("notAcknowledged")
        /// A fetch or an acknowledgement of a pull consumer failed.
        public static let consumer = Code("consumer")
        /// The connection was closed (by `close()`, or after the reconnect attempts ran out).
        public static let closed = Code("closed")
    }

    public var code: Code
    /// Why, for people: `nats://127.0.0.1:4222: no server available for connection`.
    public var message: String
    /// The libnats status, when a libnats call failed (`natsStatus` raw value; 0 otherwise).
    public var status: Int32
    /// The JetStream error code of the server's answer (`10059` stream not found, ...; 0 when none).
    public var jetStreamCode: Int
    /// Where in gridcarbon the error was made.
    public var file: String
    public var line: Int

    public init(_ code: Code, _ message: String, status: Int32 = 0, jetStreamCode: Int = 0, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.status = status
        self.jetStreamCode = jetStreamCode
        self.file = file
        self.line = line
    }

    public var description: String { message }
    public var category: FailureCategory { code == .partitionsMismatch ? .badConfiguration : .badInput }
}
