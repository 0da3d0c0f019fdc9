import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// One JSON POST for the alert deliverers (webhooks, Alertmanager), over AsyncHTTPClient.
struct AlertPoster: Sendable {
    /// What came of one attempt.
    enum Outcome: Sendable, Equatable {
        /// 2xx: delivered.
        case delivered
        /// A refusal that repeating will not change (4xx but 408 and 429): give up on this one.
        case refused(Int)
        /// Connection failure, timeout, 5xx, 408, 429: try again later.
        case retry(String)
    }

    let client: HTTPClient
    let token: String?
    let timeout: Duration

    func post(_ url: String, json: [UInt8]) async -> Outcome {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "gridcarbon")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.body = .bytes(ByteBuffer(bytes: json))
        do {
            let response = try await client.execute(request, timeout: Self.timeAmount(timeout))
            _ = try? await response.body.collect(upTo: 1 << 20)
            let code = Int(response.status.code)
            switch code {
            case 200..<300: return .delivered
            case 408, 429: return .retry("HTTP \(code)")
            case 400..<500: return .refused(code)
            default: return .retry("HTTP \(code)")
            }
        } catch {
            return .retry("\(error)")
        }
    }

    static func timeAmount(_ d: Duration) -> TimeAmount {
        let (s, atto) = d.components
        return .nanoseconds(s * 1_000_000_000 + atto / 1_000_000_000)
    }
}
