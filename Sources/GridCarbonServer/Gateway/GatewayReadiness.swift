import GridCarbonStream
import Logging
import ServiceLifecycle

/// A gateway's readiness and systemd duties: `/readyz` turns 200 once both listeners are up; the
/// watchdog is pinged while the NATS connection is not closed (libnats reconnects by itself).
struct GatewayReadiness: Service {
    let tcp: TCPIngestService
    let ready: ReadyFlag
    let connection: NATSConnection
    let logger: Logger
    let onReady: @Sendable (_ tcpPort: Int, _ httpPort: Int) -> Void

    func run() async throws {
        while tcp.localPort == nil || !ready.httpRunning {
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            try? await Task.sleep(for: .milliseconds(10))
        }
        ready.ready = true
        let notifier = SystemdNotifier()
        notifier.ready(status: "gateway: tcp port \(tcp.localPort ?? 0), http port \(ready.httpPort)")
        onReady(tcp.localPort ?? 0, ready.httpPort)
        let connection = self.connection
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await notifier.runWatchdog(isHealthy: { !connection.isClosed }) }
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    try? await Task.sleep(for: .milliseconds(200))
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            notifier.stopping(status: "gateway stopping: forwarding what it took")
        }
        ready.ready = false
    }
}
