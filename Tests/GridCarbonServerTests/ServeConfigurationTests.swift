import Testing
@testable import GridCarbonIO
import GridCarbonModel
@testable import GridCarbonServer

/// The daemon's configuration read through ``ConfigFile``: the defaults documented in the list of
/// keys are the struct's, and flags win over the file.
@Suite struct ServeConfigurationTests {
    @Test func documentedDefaultsAreTheStructs() throws {
        let d = ServeConfiguration()
        #expect(ConfigKey.tcp.defaultValue == "\(d.tcpHost):\(d.tcpPort)" && ConfigKey.http.defaultValue == "\(d.httpHost):\(d.httpPort)")
        #expect(ConfigKey.data.defaultValue == d.dataDirectory && ConfigKey.sourceBasis.defaultValue == d.sourceBasis)
        #expect(DurationFormat.parse(ConfigKey.idleTimeout.defaultValue ?? "") == d.idleTimeout)
        #expect(ConfigKey.maxLineBytes.defaultValue == String(d.maxLineBytes) && ConfigKey.maxBodyBytes.defaultValue == String(d.maxBodyBytes))
        #expect(ConfigKey.checkpointBytes.defaultValue == String(d.checkpointBytes) && ConfigKey.walSegmentBytes.defaultValue == String(d.walSegmentBytes))
        #expect(ConfigKey.fsync.defaultValue == "batch" && d.fsync == .batch)
        let a = AlertDeliveryConfiguration()
        #expect(DurationFormat.parse(ConfigKey.alertmanagerResend.defaultValue ?? "").map { Duration.microseconds($0) } == a.alertmanagerResend)
        #expect(DurationFormat.parse(ConfigKey.alertKeepAlive.defaultValue ?? "").map { Duration.microseconds($0) } == a.keepAlive)
        let read = try ServeConfiguration(file: .empty)
        #expect(read.tcpPort == d.tcpPort && read.httpHost == d.httpHost && read.dataDirectory == d.dataDirectory && read.fsync == d.fsync)
        #expect(read.idleTimeout == d.idleTimeout && read.checkpointBytes == d.checkpointBytes && read.registryPath == nil)
    }

    @Test func flagsWinOverTheFile() throws {
        let file = try ConfigFile(text: #"{"tcp": "0.0.0.0:9000", "fsync": "never", "idle_timeout": "5m", "alerts": {"webhooks": "http://a/1"}}"#, path: "c.json")
        let c = try ServeConfiguration(file: file, flags: [.tcp: "[::1]:9001", .checkpointBytes: "4096"], webhooks: ["http://b/2"])
        #expect(c.tcpHost == "::1" && c.tcpPort == 9001 && c.fsync == .never && c.idleTimeout == 5 * Time.microsPerMinute)
        #expect(c.checkpointBytes == 4096 && c.alertDelivery.webhooks == ["http://a/1", "http://b/2"])
        #expect(throws: ConfigurationError.self) { try ServeConfiguration(file: file, flags: [.fsync: "sometimes"]) }
    }
}
