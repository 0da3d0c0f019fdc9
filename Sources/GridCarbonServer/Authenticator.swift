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
/// `#` comments. Off loopback every endpoint but `/healthz` needs a token; on loopback tokens are
/// enforced when a file is given.
public struct Authenticator: Sendable {
    public let required: Bool
    let tokens: [String: Set<Role>]

    public init(required: Bool, tokens: [String: Set<Role>]) {
        self.required = required
        self.tokens = tokens
    }

    /// Parses a tokens file; throws naming the line that is wrong.
    public static func load(path: String, required: Bool) throws -> Authenticator {
        let text = String(decoding: try Files.read(path), as: UTF8.self)
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
        guard let token, let roles = tokens[token] else { return false }
        return roles.contains(role) || roles.contains(.admin)
    }

    /// The role an HTTP request needs.
    static func role(method: HTTPRequest.Method, path: String) -> Role? {
        if path == "/healthz" { return nil }
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
        let token = header.flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        guard let token, auth.tokens[token] != nil else {
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
