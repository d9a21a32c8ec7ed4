import Engine
import Foundation

/// What one `recap run` did, printed as one line (or as JSON with `--json`).
public struct RunSummary: Codable, Sendable {
    public struct Failure: Codable, Sendable, Equatable {
        public var path: String
        public var stage: String?
        public var reason: String
    }

    public var pipeline: String
    public var out: String
    public var store: String
    public var discovered = 0
    /// With `--enqueue-only`: jobs this scan created, and files whose job still waits for a worker.
    public var enqueued: Int?
    public var pending: Int?
    public var processed = 0
    public var succeeded = 0
    public var unchanged = 0
    public var busyElsewhere = 0
    /// Paths that got their outputs from work already done for the same content (copies and moves), and of
    /// those, moves (whose stale outputs at the old place were removed).
    public var placed = 0
    public var moved = 0
    public var failures: [Failure] = []
    /// Files whose outputs were written without the model's answer (it never gave a usable one): not done,
    /// the next run asks again. They make the exit code 2, like failures.
    public var degraded: [Failure] = []
    /// Jobs this run took over from a run that stopped without giving them back (killed, crashed, disk full).
    public var resumed: [Failure] = []
    public var discoveryIssues: [String] = []
    public var engineCalls = 0
    public var mediaSeconds = 0.0
    public var wallSeconds = 0.0
    /// Seconds spent in each stage, summed over files (stages overlap across files, so this can exceed wall time).
    public var stageSeconds: [String: Double] = [:]
    public var outputs: [String] = []
    public var interrupted = false
    public var engineUnavailable: String?
    /// The exit code the engine's state calls for: 3 unreachable, 1 refused (wrong API key).
    public var engineExitCode: Int32 = 3
    public var exitCode: Int32 = 0
    /// Indexed texts given a search vector in this run, and why none could be, if so (search then works by
    /// words until a later run embeds them).
    public var searchVectors = 0
    public var searchVectorsProblem: String?
    /// A pool of engine servers: each server's requests, failures and ejections (nil for one server).
    public var engineServers: [EndpointReport]?

    enum CodingKeys: String, CodingKey {
        case pipeline, out, store, discovered, enqueued, pending, processed, succeeded, unchanged
        case busyElsewhere = "busy_elsewhere", placed, moved, failures, degraded, resumed, discoveryIssues = "discovery_issues"
        case engineCalls = "engine_calls", mediaSeconds = "media_seconds", wallSeconds = "wall_seconds"
        case stageSeconds = "stage_seconds", outputs, interrupted, engineUnavailable = "engine_unavailable"
        case exitCode = "exit_code", searchVectors = "search_vectors", searchVectorsProblem = "search_vectors_problem"
        case engineServers = "engine_servers"
    }

    /// 0 all succeeded; 2 some media failed or are degraded; 3 engine unavailable; 130 interrupted.
    public mutating func settleExitCode() {
        if engineUnavailable != nil { exitCode = engineExitCode }
        else if interrupted { exitCode = 130 }
        else if !failures.isEmpty || !degraded.isEmpty { exitCode = 2 }
        else { exitCode = 0 }
    }

    public var line: String {
        if let pending {
            var s = "recap run --enqueue-only: \(discovered) file\(discovered == 1 ? "" : "s"), \(enqueued ?? 0) new job\(enqueued == 1 ? "" : "s"), "
                + "\(pending) waiting for a worker, \(unchanged) already done"
            if !failures.isEmpty { s += ", \(failures.count) failed" }
            return s + "; store \(store)"
        }
        var parts = ["recap run: \(discovered) file\(discovered == 1 ? "" : "s")"]
        parts.append("\(succeeded) done")
        if unchanged > 0 { parts.append("\(unchanged) unchanged") }
        if !degraded.isEmpty { parts.append("\(degraded.count) degraded (no usable model answer; rerun to ask again)") }
        if !failures.isEmpty { parts.append("\(failures.count) failed") }
        if !resumed.isEmpty { parts.append("\(resumed.count) resumed from a run that stopped") }
        if busyElsewhere > 0 { parts.append("\(busyElsewhere) busy in another run") }
        if placed > 0 { parts.append("\(placed) placed from finished work\(moved > 0 ? " (\(moved) moved)" : "")") }
        parts.append("\(engineCalls) engine call\(engineCalls == 1 ? "" : "s")")
        if searchVectors > 0 { parts.append("\(searchVectors) passage\(searchVectors == 1 ? "" : "s") embedded for search") }
        parts.append(String(format: "%.1f s of media in %.1f s", mediaSeconds, wallSeconds))
        var s = parts.joined(separator: ", ") + "; output in \(out)"
        if interrupted { s += " (interrupted: finished stages are kept, run again to resume)" }
        if let e = engineUnavailable { s += " (engine unavailable: \(e))" }
        return s
    }
}
