import HTTPTypes
import Hummingbird
import NIOCore

/// The live dashboard `GET /` (reference §6): one page, its script and its style, all served by
/// the daemon (no outside asset). They hold no data, so they need no token; the script reads the
/// `read` endpoints with the token the user types in (kept in the tab's `sessionStorage`).
public enum Dashboard {
    /// The paths served without a token.
    public static let assetPaths: Set<String> = ["/", "/dashboard.js", "/dashboard.css"]

    /// What the page may load: only the daemon itself (the icon is an empty `data:` URL).
    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// Adds `GET /`, `GET /dashboard.js` and `GET /dashboard.css`; `tokens` says whether the page
    /// must ask for a token before its first request, `window` the window length it shows.
    static func add(to router: Router<BasicRequestContext>, tokens: Bool, window: String) {
        let page = ByteBuffer(string: DashboardAssets.page.replacingFirst("{{AUTH}}", with: tokens ? "required" : "none")
            .replacingFirst("{{WINDOW}}", with: window))
        let script = ByteBuffer(string: DashboardAssets.script)
        let style = ByteBuffer(string: DashboardAssets.style)
        router.get("/") { _, _ in asset(page, "text/html; charset=utf-8") }
        router.get("/dashboard.js") { _, _ in asset(script, "text/javascript; charset=utf-8") }
        router.get("/dashboard.css") { _, _ in asset(style, "text/css; charset=utf-8") }
    }

    static func asset(_ body: ByteBuffer, _ type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "no-cache"
        headers[HTTPField.Name("Content-Security-Policy")!] = contentSecurityPolicy
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }
}

extension String {
    /// This string with the first `marker` replaced.
    func replacingFirst(_ marker: String, with value: String) -> String {
        guard let r = firstRange(of: marker) else { return self }
        return String(self[..<r.lowerBound]) + value + String(self[r.upperBound...])
    }
}
