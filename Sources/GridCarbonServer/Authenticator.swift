import GridCarbonIO
import GridCarbonModel
import HTTPTypes
import Hummingbird

/// Roles a bearer token can carry (§6).
public enum Role: String, Sendable, CaseIterable {
    /// May send records (TCP, `POST /v1/records`).
    case ingest
    /// May read aggregates, totals, factors, alerts, metrics.
    case read
    /// May do everything, including `POST /v1/registry`.
    case admin
}

/// Bearer tokens and their roles, from a tokens file: one token a line, `ROLE[,ROLE...] TOKEN`,
/// `#` comments. Off loopback every endpoint but `/healthz` and the dashboard's page and assets needs a token; on loopback tokens are
/// enforced when a file is given. A presented token is compared with every known one in constant
/// time (``roles(of:)``): no early exit tells how much of it was right.
public struct Authenticator: Sendable {
    public let required: Bool
    /// The known tokens' bytes and roles, searched whole on every check.
    let entries: [(token: [UInt8], roles: Set<Role>)]

    public init(required: Bool, tokens: [String: Set<Role>]) {
        self.required = required
        self.entries = tokens.map { (Array($0.key.utf8), $0.value) }
    }

    /// Parses a tokens file; throws ``TokensFileError`` (exit 2) naming the file and the line
    /// that is wrong, or saying why it cannot be read.
    public static func load(path: String, required: Bool) throws(TokensFileError) -> Authenticator {
        let bytes: [UInt8]
        do {
            bytes = try Files.read(path)
        } catch {
            throw TokensFileError(.unreadable, path: path, message: "cannot read the tokens file (\(error)); give --tokens FILE with lines 'ROLE[,ROLE] TOKEN'")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        var tokens: [String: Set<Role>] = [:]
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2 else { throw TokensFileError(.badLine, path: path, message: "line \(n + 1): expected ROLE[,ROLE] TOKEN") }
            var roles = Set<Role>()
            for r in parts[0].split(separator: ",") {
                guard let role = Role(rawValue: String(r)) else { throw TokensFileError(.unknownRole, path: path, message: "line \(n + 1): unknown role '\(r)' (ingest, read, admin)") }
                roles.insert(role)
            }
            guard parts[1].count >= 16 else { throw TokensFileError(.shortToken, path: path, message: "line \(n + 1): token shorter than 16 characters") }
            tokens[String(parts[1])] = roles
        }
        return Authenticator(required: required, tokens: tokens)
    }

    /// Whether `token` may act in `role` (admin may do everything).
    public func allows(_ token: String?, _ role: Role) -> Bool {
        if !required { return true }
        guard let token, let roles = roles(of: token) else { return false }
        return roles.contains(role) || roles.contains(.admin)
    }

    /// The roles of `token`, nil when it is not known. Every known token is compared, each in
    /// time that depends only on the lengths (``constantTimeEquals(_:_:)``).
    func roles(of token: String) -> Set<Role>? {
        let presented = Array(token.utf8)
        var found: Set<Role>?
        for e in entries {
            let equal = Self.constantTimeEquals(presented, e.token)
            if equal { found = e.roles }
        }
        return found
    }

    /// Byte equality without an early exit: every byte of `known` is looked at whatever differs.
    static func constantTimeEquals(_ presented: [UInt8], _ known: [UInt8]) -> Bool {
        var diff = UInt(bitPattern: presented.count ^ known.count)
        if presented.isEmpty { return known.isEmpty }
        let n = presented.count
        for i in 0..<known.count {
            diff |= UInt(presented[i % n] ^ known[i])
        }
        return diff == 0
    }

    /// The token of an `Authorization` header: scheme `Bearer` in any case (RFC 9110 §11.1),
    /// one or more spaces, the token; nil for another scheme.
    static func bearerToken(_ header: String) -> String? {
        let bytes = Array(header.utf8)
        let scheme = Array("bearer".utf8)
        guard bytes.count > scheme.count, bytes[scheme.count] == 0x20 else { return nil }
        for i in 0..<scheme.count where bytes[i] | 0x20 != scheme[i] { return nil }
        let token = bytes[(scheme.count + 1)...].drop(while: { $0 == 0x20 })
        let trimmed = token.reversed().drop(while: { $0 == 0x20 }).reversed()
        return trimmed.isEmpty ? nil : String(decoding: trimmed, as: UTF8.self)
    }

    /// The role an HTTP request needs.
    static func role(method: HTTPRequest.Method, path: String) -> Role? {
        if path == "/healthz" { return nil }
        // The dashboard's page and assets hold no data (reference §6): public; its data comes
        // from the endpoints below, with the page's token.
        if method == .get && Dashboard.assetPaths.contains(path) { return nil }
        if method == .post && path == "/v1/records" { return .ingest }
        if method == .post { return .admin }
        return .read
    }
}

/// Checks `Authorization: Bearer TOKEN` against the role the route needs: 401 without a valid
/// token, 403 with a token that lacks the role.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let auth: Authenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard auth.required, let role = Authenticator.role(method: request.method, path: request.uri.path) else {
            return try await next(request, context)
        }
        let header = request.headers[.authorization]
        let token = header.flatMap(Authenticator.bearerToken)
        guard let token, auth.roles(of: token) != nil else {
            throw APIError(.unauthorized, "unauthorized", "send Authorization: Bearer TOKEN (a token from the daemon's tokens file)")
        }
        guard auth.allows(token, role) else {
            throw APIError(.forbidden, "forbidden", "this token lacks the '\(role.rawValue)' role")
        }
        return try await next(request, context)
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return s
    }
}
