import ArgumentParser
import Foundation
import Store

extension JobState: ExpressibleByArgument {}

/// `recap jobs`: look at, retry and cancel the jobs in the store.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List, inspect, retry, cancel or prune jobs in the store.",
        discussion: """
            A job is one media file (identified by its content, not its path) under one pipeline version and \
            engine. States: queued, running, failed (retries by itself after a backoff), dead (out of attempts), \
            succeeded, cancelled.
            """,
        subcommands: [JobsListCommand.self, JobsShowCommand.self, JobsRetryCommand.self, JobsCancelCommand.self, JobsPruneCommand.self],
        defaultSubcommand: JobsListCommand.self)
}

/// `recap jobs list`
struct JobsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List jobs, most recently active first.",
        discussion: """
            Examples:
              recap jobs list --state dead
              recap jobs list --out /srv/index --json --limit 1000
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Option(name: .long, help: "Only jobs in this state (\(JobState.allCases.map(\.rawValue).joined(separator: ", "))).")
    var state: JobState?

    @Option(name: .long, help: "At most this many jobs.")
    var limit: Int = 50

    @Flag(name: .long, help: "Print the jobs as JSON on stdout.")
    var json = false

    func run() async throws {
        let store = try await storeOptions.open()
        let jobs: [Job]
        do { jobs = try await store.jobs(state: state, limit: max(1, limit)) } catch { throw StoreCLI.fail(error) }
        if json { return try StoreCLI.printJSON(jobs.map(JobJSON.init)) }
        if jobs.isEmpty {
            print(state.map { "No \($0.rawValue) jobs." } ?? "No jobs yet.")
            return
        }
        print("ID      STATE      TRIES  UPDATED              PIPELINE           PATH")
        for j in jobs {
            let pipeline = "\(j.identity.pipeline)@\(j.identity.pipelineVersion)"
            print(
                pad("\(j.id)", 7) + " " + pad(j.state.rawValue, 10) + " " + pad("\(j.attempts)/\(j.maxAttempts)", 6) + " "
                    + pad(StoreCLI.time(j.updatedAt), 20) + " " + pad(pipeline, 18) + " " + j.path)
            if j.state != .succeeded, let error = j.lastError {
                print("        └ \(StoreCLI.oneLine(error, max: 110))")
            }
        }
    }

    private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
}

/// `recap jobs show ID`
struct JobsShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one job: its stages with timings, every attempt with its error, and engine calls.")

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "The job's ID (from `recap jobs list`).")
    var id: Int64

    @Flag(name: .long, help: "Print the job as JSON on stdout.")
    var json = false

    func run() async throws {
        let store = try await storeOptions.open()
        do {
            guard let job = try await store.job(id) else { throw StoreError.jobNotFound(jobID: id) }
            let checkpoints = try await store.checkpoints(jobID: id).values.sorted { $0.stage < $1.stage }
            let attempts = try await store.attempts(jobID: id)
            let calls = try await store.engineCalls(jobID: id)
            if json {
                return try StoreCLI.printJSON(JobDetailJSON(job: job, checkpoints: checkpoints, attempts: attempts, calls: calls))
            }
            var out = "Job \(job.id)  \(job.state.rawValue)  attempt \(job.attempts) of \(job.maxAttempts)\n"
            out += "  file         \(job.path)\n"
            out += "  fingerprint  \(job.fingerprint)\n"
            out += "  pipeline     \(job.identity.pipeline) version \(job.identity.pipelineVersion)\n"
            out += "  engine       \(job.identity.engine)\n"
            out += "  created      \(StoreCLI.time(job.createdAt))    updated \(StoreCLI.time(job.updatedAt))"
            out += job.finishedAt.map { "    finished \(StoreCLI.time($0))" } ?? ""
            out += "\n"
            if job.state == .running, let owner = job.leaseOwner {
                out += "  lease        \(owner) until \(StoreCLI.time(job.leaseExpiresAt))\n"
            }
            if job.state == .failed { out += "  next try     not before \(StoreCLI.time(job.notBefore))\n" }
            out += "\nStages\n"
            if checkpoints.isEmpty { out += "  none finished yet\n" }
            for c in checkpoints {
                let size = c.result.map { " \($0.count) B JSON" } ?? ""
                let file = c.fileRef.map { " → \($0)" } ?? ""
                let engine = calls[c.stage].map { "  \($0) engine call\($0 == 1 ? "" : "s")" } ?? ""
                out += "  \(c.stage.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) \(StoreCLI.duration(c.duration).padding(toLength: 8, withPad: " ", startingAt: 0)) at \(StoreCLI.time(c.finishedAt)) (attempt \(c.attempt))\(size)\(file)\(engine)\n"
            }
            out += "\nAttempts\n"
            if attempts.isEmpty { out += "  none yet\n" }
            for a in attempts {
                out += "  #\(a.number) \(a.outcome.rawValue)  \(StoreCLI.time(a.startedAt)) → \(StoreCLI.time(a.endedAt))  \(a.owner)\n"
                if let message = a.message {
                    out += "     \(a.stage.map { "in \($0): " } ?? "")\(StoreCLI.oneLine(message, max: 160))\n"
                }
            }
            print(out, terminator: "")
        } catch let error as StoreError {
            throw StoreCLI.fail(error)
        }
    }
}

/// `recap jobs retry`
struct JobsRetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Queue failed, dead or cancelled jobs again, with fresh attempts.",
        discussion: """
            Finished stages are kept: a retried job resumes at the stage that failed. Then run `recap run` \
            again (or let cron) to process them.

            Examples:
              recap jobs retry 42 43
              recap jobs retry --dead
              recap jobs retry --failed --dead
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "Job IDs to retry.")
    var ids: [Int64] = []

    @Flag(name: .long, help: "Retry every failed job now, without waiting for its backoff.")
    var failed = false

    @Flag(name: .long, help: "Retry every dead job (out of attempts).")
    var dead = false

    @Flag(name: .long, help: "Print the result as JSON on stdout.")
    var json = false

    func validate() throws {
        if ids.isEmpty && !failed && !dead {
            throw ValidationError("Name job IDs, or pass --failed and/or --dead.")
        }
        if !ids.isEmpty && (failed || dead) {
            throw ValidationError("Pass either job IDs or --failed/--dead, not both.")
        }
    }

    func run() async throws {
        let store = try await storeOptions.open()
        var states: Set<JobState> = []
        if failed { states.insert(.failed) }
        if dead { states.insert(.dead) }
        let revived: Int
        do { revived = try await store.retry(ids: ids, states: states) } catch { throw StoreCLI.fail(error) }
        if json { return try StoreCLI.printJSON(["retried": revived]) }
        print(revived == 0 ? "No jobs to retry." : "Queued \(revived) job\(revived == 1 ? "" : "s") again; `recap run` will process them.")
    }
}

/// `recap jobs cancel ID`
struct JobsCancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Stop a job: it is not processed again until retried.",
        discussion: """
            A running job stops at its next checkpoint or heartbeat: the process working on it loses its \
            lease and drops the job's work. Finished stages are kept for a later retry.
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: "The job's ID.")
    var id: Int64

    func run() async throws {
        let store = try await storeOptions.open()
        do { try await store.cancel(id) } catch { throw StoreCLI.fail(error) }
        print("Cancelled job \(id).")
    }
}

/// `recap jobs prune --older-than DAYS`
struct JobsPruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Keep the store small: drop old finished jobs' saved results and forget old failures.",
        discussion: """
            For jobs that finished more than --older-than days ago: succeeded jobs keep their row, which is what \
            stops an unchanged file from being processed again, and their stage timings, but lose the stages' \
            saved results (transcripts, captions: most of a store's size) and their failed attempts; dead and \
            cancelled jobs are deleted, so their files are tried afresh when next seen; workers not heard from \
            for as long are forgotten. With --forget-succeeded, succeeded jobs are deleted too, and their files \
            are processed again if they are still there: use it when the files are gone for good.

            Nothing still to do is touched. On PostgreSQL, autovacuum reuses the space; the files shrink only with \
            VACUUM FULL, which locks the tables: run it when no worker is. Suited to cron, e.g. weekly:
              recap jobs prune --older-than 90 --store postgres://recap@db/recap --json
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Option(name: .customLong("older-than"), help: ArgumentHelp("Only jobs that finished at least this many days ago.", valueName: "days"))
    var days: Double

    @Flag(name: .customLong("forget-succeeded"), help: "Delete old succeeded jobs too (their files are processed again if seen).")
    var forgetSucceeded = false

    @Flag(name: .long, help: "Print the counts as JSON on stdout.")
    var json = false

    func validate() throws {
        guard days >= 0 else { throw ValidationError("--older-than must be 0 or more days") }
    }

    func run() async throws {
        let store = try await storeOptions.open()
        let horizon = days * 86_400
        let compacted: Int, deleted: Int
        do {
            compacted = forgetSucceeded ? 0 : try await store.compactSucceeded(olderThan: horizon)
            deleted = try await store.pruneFinished(olderThan: horizon, states: forgetSucceeded ? [.succeeded, .dead, .cancelled] : [.dead, .cancelled])
        } catch { throw StoreCLI.fail(error) }
        if json { return try StoreCLI.printJSON(["compacted": compacted, "deleted": deleted]) }
        print("Deleted \(deleted) finished job\(deleted == 1 ? "" : "s"); compacted \(compacted) succeeded job\(compacted == 1 ? "" : "s").")
    }
}

/// JSON shapes of `recap jobs list/show --json`.
struct JobJSON: Encodable {
    var id: Int64, state: String, path: String, fingerprint: String
    var pipeline: String, pipelineVersion: String, engine: String
    var attempts: Int, maxAttempts: Int, notBefore: Date, leaseOwner: String?, leaseExpiresAt: Date?
    var createdAt: Date, updatedAt: Date, finishedAt: Date?, lastError: String?

    init(_ j: Job) {
        id = j.id; state = j.state.rawValue; path = j.path; fingerprint = j.fingerprint
        pipeline = j.identity.pipeline; pipelineVersion = j.identity.pipelineVersion; engine = j.identity.engine
        attempts = j.attempts; maxAttempts = j.maxAttempts; notBefore = j.notBefore
        leaseOwner = j.leaseOwner; leaseExpiresAt = j.leaseExpiresAt
        createdAt = j.createdAt; updatedAt = j.updatedAt; finishedAt = j.finishedAt; lastError = j.lastError
    }
}

struct JobDetailJSON: Encodable {
    struct StageJSON: Encodable {
        var stage: String, startedAt: Date, finishedAt: Date, seconds: Double, attempt: Int, fileRef: String?
        var resultBytes: Int?, engineCalls: Int
    }
    struct AttemptJSON: Encodable {
        var number: Int, outcome: String, owner: String, startedAt: Date, endedAt: Date?, stage: String?, message: String?
    }
    var job: JobJSON
    var stages: [StageJSON]
    var attempts: [AttemptJSON]
    var engineCalls: [String: Int]

    init(job: Job, checkpoints: [Checkpoint], attempts: [Attempt], calls: [Stage: Int]) {
        self.job = JobJSON(job)
        stages = checkpoints.map {
            StageJSON(stage: $0.stage.rawValue, startedAt: $0.startedAt, finishedAt: $0.finishedAt, seconds: $0.duration,
                      attempt: $0.attempt, fileRef: $0.fileRef, resultBytes: $0.result?.count, engineCalls: calls[$0.stage] ?? 0)
        }
        self.attempts = attempts.map {
            AttemptJSON(number: $0.number, outcome: $0.outcome.rawValue, owner: $0.owner, startedAt: $0.startedAt,
                        endedAt: $0.endedAt, stage: $0.stage?.rawValue, message: $0.message)
        }
        engineCalls = Dictionary(uniqueKeysWithValues: calls.map { ($0.key.rawValue, $0.value) })
    }
}
