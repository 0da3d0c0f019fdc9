import Foundation
import GridCarbonTestKit
import GridCarbonIO
@testable import GridCarbonStream

#if canImport(Glibc)
import Glibc
#endif

/// The built `gridcarbon` binary, run by the tests where it is the thing under test.
enum GridCarbonBinary {
    /// The `gridcarbon` built beside this test bundle (``TestRepository/binary``).
    static var path: String { TestRepository.binary }

    /// Runs `gridcarbon args...`; its exit status, standard output and standard error.
    static func run(_ args: [String], stdin: [UInt8]? = nil) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try TestRepository.requireBinary())
        p.arguments = args
        let out = Pipe(), err = Pipe(), input = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = stdin == nil ? FileHandle.nullDevice : input
        try p.run()
        if let bytes = stdin {
            input.fileHandleForWriting.write(Data(bytes))
            try input.fileHandleForWriting.close()
        }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}

/// One line read back from the stream, with the sequence of its message.
struct StoredLine: Equatable, CustomStringConvertible {
    var sequence: UInt64
    var line: String
    var description: String { "\(sequence):\(line)" }
}

/// Everything stored under `subject`, line by line in stream order, through a durable pull
/// consumer of its own (acknowledging as it goes).
func readBack(_ js: JetStream, subject: String, stream: String = "GRIDCARBON", durable: String? = nil) throws -> [StoredLine] {
    var settings = ConsumerSettings(stream: stream, durable: durable ?? "readback-" + subject.replacingOccurrences(of: ".", with: "-"), filterSubject: subject)
    settings.ackWaitSeconds = 30
    let consumer = try PullConsumer(js, settings: settings, recreate: true)
    var lines: [StoredLine] = []
    while true {
        let batch = try consumer.fetch(max: 256, timeoutMillis: 1000)
        // Empty: nothing more, or a consumer leader being elected (then the server still counts some pending).
        if batch.isEmpty {
            if try consumer.state().numPending == 0 { break }
            continue
        }
        for m in batch {
            let text = m.withPayload { String(decoding: $0, as: UTF8.self) }
            precondition(text.hasSuffix("\n"), "a message holds whole lines")
            for l in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                lines.append(StoredLine(sequence: m.streamSequence, line: String(l)))
            }
            try consumer.ack(m)
        }
        if batch.last!.numPending == 0 { break }
    }
    return lines
}

/// Writes `text` to a new file in `dir`; its path.
func writeFile(_ dir: String, _ name: String, _ text: String) throws -> String {
    let path = dir + "/" + name
    try Files.writeAtomically(path, Array(text.utf8), sync: false)
    return path
}

/// The number after `label` in a summary line (`  rejected          4   (...)`).
func count(_ label: String, in summary: String) -> Int? {
    for line in summary.split(separator: "\n") {
        let t = line.trimmingCharacters(in: .whitespaces)
        guard t.hasPrefix(label + " ") else { continue }
        let rest = t.dropFirst(label.count).trimmingCharacters(in: .whitespaces)
        return Int(rest.prefix { $0.isNumber || $0 == "," }.replacingOccurrences(of: ",", with: ""))
    }
    return nil
}
