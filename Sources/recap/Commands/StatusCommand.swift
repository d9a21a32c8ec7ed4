import ArgumentParser
import Foundation
import PostgresStore
import Store

/// Where `recap status` and `recap jobs` find the store; the same resolution `recap run` uses.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The job store: a SQLite file, or a postgres:// URL.",
        discussion: "Default: $RECAP_STORE if set, else OUT/.recap/store.sqlite (OUT = --out, default ./recap-out).",
        valueName: "file|url"))
    var store: String?

    @Option(name: .long, help: ArgumentHelp("The output folder of `recap run`, to find its store.", valueName: "dir"))
    var out: String?

    /// Opens the existing store; a missing, foreign, damaged or read-only store (or an unreachable database)
    /// is reported on stderr and ends the command with exit code 1.
    func open() async throws -> any PipelineStore {
        do {
            switch StoreChoice.resolve(store: store, outputFolder: out) {
            case .sqlite(let url): return try JobStore(url: url, options: .init(create: false))
            case .postgres(let url): return try await StoreChoice.openPostgres(url, connections: 2)
            }
        } catch {
            throw StoreCLI.fail(error)
        }
    }
}

/// Small shared helpers for the store's commands.
enum StoreCLI {
    /// Prints `error` on stderr as `recap: …` and returns the exit code to throw (1).
    static func fail(_ error: any Error) -> ExitCode {
        FileHandle.standardError.write(Data("recap: \(error)\n".utf8))
        return ExitCode(1)
    }

    static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        FileHandle.standardOutput.write(try encoder.encode(value) + Data("\n".utf8))
    }

    static func time(_ date: Date?) -> String {
        guard let date else { return "-" }
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f.string(from: date)
    }

    static func duration(_ seconds: TimeInterval) -> String {
        if seconds < 10 { return String(format: "%.2fs", seconds) }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m"
    }

    static func oneLine(_ text: String?, max: Int = 100) -> String {
        let flat = (text ?? "").split(whereSeparator: \.isNewline).joined(separator: " ")
        return flat.count > max ? String(flat.prefix(max - 1)) + "…" : flat
    }
}

/// `recap status`: how the store is doing, for a human or (with --json) a monitoring script.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the job store: jobs by state, recent runs, latest failures, throughput.",
        discussion: """
            Reads the store without changing it. Failed jobs retry on their own after a backoff; dead jobs \
            used up their attempts and wait for `recap jobs retry`.

            Exit codes: 0 shown; 1 no store, or it cannot be read.

            Examples:
              recap status --out /srv/index
              RECAP_STORE=/var/lib/recap/store.sqlite recap status --json
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Option(name: .long, help: "How many recent runs and failures to show.")
    var recent: Int = 5

    @Flag(name: .long, help: "Print the status as JSON on stdout.")
    var json = false

    func run() async throws {
        let store = try await storeOptions.open()
        let summary: StoreSummary
        do {
            if let sqlite = store as? JobStore {
                summary = try sqlite.summary(runs: max(0, recent), failures: max(0, recent))
            } else if let shared = store as? PostgresJobStore {
                summary = try await shared.summary(failures: max(0, recent))  // runs are in each host's own log
            } else {
                throw StoreError.database(path: store.location, detail: "no status for this kind of store")
            }
        } catch { throw StoreCLI.fail(error) }
        // A store from before the worker registry has no workers to show.
        let workers = Array(((try? await store.workers()) ?? []).prefix(max(0, recent)))
        if json {
            var out = StatusJSON(summary)
            out.workers = workers.map { .init(id: $0.id, name: $0.name, host: $0.host, pid: $0.pid, startedAt: $0.startedAt,
                                               lastHeartbeat: $0.lastHeartbeat, jobsDone: $0.jobsDone, failures: $0.failures) }
            try StoreCLI.printJSON(out)
        } else {
            print(Self.render(summary) + Self.render(workers), terminator: "")
        }
    }

    /// Workers (`recap worker`) by last heartbeat: a worker silent for long has stopped or hangs.
    static func render(_ workers: [WorkerRecord]) -> String {
        guard !workers.isEmpty else { return "" }
        var out = "\nWorkers\n"
        for w in workers {
            let ago = StoreCLI.duration(max(0, Date().timeIntervalSince(w.lastHeartbeat)))
            out += "  #\(w.id)  \(w.host) pid \(w.pid)  last heartbeat \(StoreCLI.time(w.lastHeartbeat)) (\(ago) ago)  "
            out += "\(w.jobsDone) done, \(w.failures) failed  since \(StoreCLI.time(w.startedAt))\n"
        }
        return out
    }

    static func render(_ s: StoreSummary) -> String {
        var out = "Store  \(s.path)\n"
        let total = s.counts.values.reduce(0, +)
        let states = JobState.allCases.map { "\(s.counts[$0] ?? 0) \($0.rawValue)" }.joined(separator: " · ")
        out += "Jobs   \(total) total: \(states)\n"
        if let waiting = s.counts[.failed], waiting > 0 { out += "       (\(waiting) failed will retry after their backoff)\n" }
        if let dead = s.counts[.dead], dead > 0 { out += "       (\(dead) dead: `recap jobs retry --dead` to try again)\n" }
        var pace = "\(s.throughput.succeededLastHour) succeeded in the last hour"
        if let perMinute = s.throughput.lastRunJobsPerMinute { pace += String(format: "; last run %.1f jobs/min", perMinute) }
        out += "Pace   \(pace); \(s.engineCalls) engine calls in total\n"
        let stages = s.throughput.meanStageSeconds.keys.sorted().map {
            "\($0) \(StoreCLI.duration(s.throughput.meanStageSeconds[$0]!))"
        }
        if !stages.isEmpty { out += "Stages mean time: \(stages.joined(separator: ", "))\n" }

        out += "\nRecent runs\n"
        if s.runs.isEmpty { out += "  none yet\n" }
        for r in s.runs {
            let end = r.endedAt.map { "\(StoreCLI.time($0)) (\(StoreCLI.duration($0.timeIntervalSince(r.startedAt))))" }
                ?? "did not finish (running, or killed)"
            let c = r.counts
            out += "  #\(r.id)  \(StoreCLI.time(r.startedAt)) → \(end)  \(r.host) pid \(r.pid)\n"
            out += "       \(c.discovered) found, \(c.enqueued) new, \(c.succeeded) succeeded, \(c.failed) failed, \(c.skipped) skipped"
            out += "  \(StoreCLI.oneLine(r.command, max: 80))\n"
        }

        out += "\nLatest failures\n"
        if s.failures.isEmpty { out += "  none\n" }
        for f in s.failures {
            out += "  job \(f.jobID)  \(StoreCLI.time(f.at))  attempt \(f.attempt)\(f.stage.map { " in \($0)" } ?? "")  (now \(f.state.rawValue))  \(f.path)\n"
            out += "       \(f.outcome == .expired ? "[lease expired] " : "")\(StoreCLI.oneLine(f.message, max: 140))\n"
        }
        return out
    }
}

/// The JSON shape of `recap status --json` (stable keys for scripts).
struct StatusJSON: Encodable {
    struct Run: Encodable {
        var id: Int64, command: String, host: String, pid: Int, startedAt: Date, endedAt: Date?
        var counts: RunCounts
    }
    struct Failure: Encodable {
        var jobId: Int64, path: String, state: String, attempt: Int, outcome: String, stage: String?, message: String, at: Date
    }
    struct Worker: Encodable {
        var id: Int64, name: String, host: String, pid: Int, startedAt: Date, lastHeartbeat: Date, jobsDone: Int, failures: Int
    }
    var workers: [Worker] = []
    var store: String
    var counts: [String: Int]
    var runs: [Run]
    var failures: [Failure]
    var succeededLastHour: Int
    var lastRunJobsPerMinute: Double?
    var meanStageSeconds: [String: Double]
    var engineCalls: Int

    init(_ s: StoreSummary) {
        store = s.path
        counts = Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0.rawValue, s.counts[$0] ?? 0) })
        runs = s.runs.map { Run(id: $0.id, command: $0.command, host: $0.host, pid: $0.pid, startedAt: $0.startedAt, endedAt: $0.endedAt, counts: $0.counts) }
        failures = s.failures.map {
            Failure(jobId: $0.jobID, path: $0.path, state: $0.state.rawValue, attempt: $0.attempt, outcome: $0.outcome.rawValue,
                    stage: $0.stage?.rawValue, message: $0.message, at: $0.at)
        }
        succeededLastHour = s.throughput.succeededLastHour
        lastRunJobsPerMinute = s.throughput.lastRunJobsPerMinute
        meanStageSeconds = Dictionary(uniqueKeysWithValues: s.throughput.meanStageSeconds.map { ($0.key.rawValue, $0.value) })
        engineCalls = s.engineCalls
    }
}
