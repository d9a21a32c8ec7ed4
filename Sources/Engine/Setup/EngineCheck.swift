import Foundation

/// `recap engine check`: one tiny real request per input the engine claims, each with a schema.
public enum EngineCheck {
    public struct Check: Sendable, Codable {
        public var input: String
        public var passed: Bool
        public var seconds: Double
        /// The answer (schema-valid JSON) or the error.
        public var detail: String
        /// What stood in for the input (local engine: OCR text, transcript).
        public var evidence: [String]
        public var promptTokens: Int
        public var completionTokens: Int
    }

    /// One server of a pool and its own checks.
    public struct ServerChecks: Sendable, Codable {
        public var url: String
        public var checks: [Check]
        public var unreachable: Bool
    }

    public struct Report: Sendable, Codable {
        public var backend: String
        public var identity: String
        public var models: [String: String]
        public var claimed: EngineCapabilities
        /// Every check; for a pool, every server's, in the servers' order.
        public var checks: [Check]
        /// The engine could not be reached at all (for a pool: no server could).
        public var unreachable: Bool
        /// A pool's servers, each checked on its own (nil for one server).
        public var servers: [ServerChecks]?

        public var allPassed: Bool { !checks.isEmpty && checks.allSatisfy(\.passed) }

        public var humanText: String {
            var lines = ["engine: \(backend)  (\(identity))", "claims: \(claimed.summary)"]
            func add(_ checks: [Check]) {
                for c in checks {
                    lines.append(String(format: "  %@ %-5@ %6.2f s  %@", c.passed ? "ok  " : "FAIL", c.input, c.seconds, c.detail))
                    for e in c.evidence { lines.append("               given as: \(e)") }
                }
            }
            if let servers {
                for server in servers {
                    lines.append("server \(server.url)\(server.unreachable ? " (unreachable)" : ""):")
                    add(server.checks)
                }
            } else {
                add(checks)
            }
            if let servers {
                // An input is verified when every server answered it.
                let inputs = servers.flatMap { $0.checks.map(\.input) }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
                let verified = inputs.filter { input in servers.allSatisfy { $0.checks.contains { $0.input == input && $0.passed } } }
                let answering = servers.filter { s in !s.checks.isEmpty && s.checks.allSatisfy(\.passed) }.count
                lines.append("verified on every server: \(verified.isEmpty ? "nothing" : verified.joined(separator: ", ")) (\(answering) of \(servers.count) servers passed every check)")
                return lines.joined(separator: "\n")
            }
            let verified = checks.filter(\.passed).map(\.input)
            lines.append("verified: \(verified.isEmpty ? "nothing" : verified.joined(separator: ", "))")
            return lines.joined(separator: "\n")
        }
    }

    public static func run(_ engine: any Engine) async -> Report {
        // A pool is checked server by server: a request through the pool would only show the servers it chose.
        if let pool = engine as? EnginePool {
            var report = Report(backend: pool.identity.backend, identity: pool.identity.key, models: pool.identity.models,
                                claimed: pool.capabilities, checks: [], unreachable: true, servers: [])
            for member in pool.members {
                let one = await run(member)
                report.servers?.append(ServerChecks(url: member.configuration.baseURL, checks: one.checks, unreachable: one.unreachable))
                report.checks += one.checks
                report.unreachable = report.unreachable && one.unreachable
            }
            return report
        }
        let caps = engine.capabilities
        var report = Report(backend: engine.identity.backend, identity: engine.identity.key, models: engine.identity.models,
                            claimed: caps, checks: [], unreachable: false, servers: nil)
        var requests: [(String, EngineRequest)] = [("text", EngineRequest(
            system: "You answer with JSON only.",
            parts: [.text("Name one colour of the sky on a clear day.")],
            schema: ["type": "object", "required": ["colour"], "additionalProperties": false,
                     "properties": ["colour": ["type": "string", "maxLength": 40]]],
            maxTokens: 40, temperature: 0))]
        if caps.images, let card = try? TextCard.jpeg("RECAP CHECK 42") {
            requests.append(("image", EngineRequest(
                system: "You answer with JSON only.",
                parts: [.text("What text is written in this image?"), .image(EngineImage(jpeg: card, time: 0))],
                schema: ["type": "object", "required": ["text"], "additionalProperties": false,
                         "properties": ["text": ["type": "string", "maxLength": 80]]],
                maxTokens: 40, temperature: 0)))
        }
        if caps.audio {
            // One second of a quiet 440 Hz tone: a real clip of the right format, with no words in it.
            let tone = (0..<EngineAudio.sampleRate).map { Float(0.1 * sin(2 * Double.pi * 440 * Double($0) / 16_000)) }
            requests.append(("audio", EngineRequest(
                system: "You answer with JSON only.",
                parts: [.text("Is there speech in this audio? Describe it briefly."), .audio(EngineAudio(samples: tone, start: 0))],
                schema: ["type": "object", "required": ["speech", "description"], "additionalProperties": false,
                         "properties": ["speech": ["type": "boolean"], "description": ["type": "string", "maxLength": 80]]],
                maxTokens: 48, temperature: 0)))
        }
        for (input, request) in requests {
            let start = ContinuousClock.now
            do {
                let r = try await engine.generate(request)
                report.checks.append(Check(
                    input: input, passed: true, seconds: (ContinuousClock.now - start).seconds,
                    detail: r.json.jsonString() + (r.repair == .none ? "" : " (repaired: \(r.repair.rawValue))"),
                    evidence: r.evidence.map(\.text), promptTokens: r.usage.promptTokens,
                    completionTokens: r.usage.completionTokens))
            } catch {
                if let e = error as? EngineError, case .unreachable = e { report.unreachable = true }
                report.checks.append(Check(input: input, passed: false, seconds: (ContinuousClock.now - start).seconds,
                                           detail: "\(error)", evidence: [], promptTokens: 0, completionTokens: 0))
                if report.unreachable { break }
            }
        }
        return report
    }
}
