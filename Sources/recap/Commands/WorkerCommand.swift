import ArgumentParser
import Engine
import Foundation
import Pipeline
import Store

/// `recap worker`: takes jobs from a shared store and processes them, until stopped.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Process the jobs waiting in a job store, as a long-running worker.",
        discussion: """
            Claims jobs of the pipeline and engine given (the same options as `recap run`, which make the same \
            job keys) and processes them exactly as `recap run` would, writing outputs under --out. Fill the store \
            with `recap run PATH... --enqueue-only`; run one worker per host (each with --jobs for its cores).

            Files are found where the job says: under a named root mapped with --root NAME=PATH on this host, or \
            at the path the enqueuing host saw. A file whose bytes differ from what was enqueued is not processed.

            SIGTERM or Ctrl-C stops the worker cleanly: the file in hand is given back with its finished stages \
            (another worker resumes it) and the worker exits 0. `recap status` lists workers with their last \
            heartbeat, files done and failures. Search vectors are not made by workers: a later `recap run` makes them.

            Exit codes: 0 stopped by a signal, or idle with --until-idle and nothing failed; 2 some files failed; \
            1 configuration error; 3 engine unavailable.

            The store is --store (or RECAP_STORE): a SQLite file for workers on one host, or postgres://user:password@host/db \
            for workers on many. A worker rides out a database restart or a network cut and carries on.

            Examples:
              export RECAP_STORE=postgres://recap:secret@db.lan/recap
              recap run /mnt/media --enqueue-only --root media=/mnt/media --out /srv/recap
              recap worker --root media=/Volumes/media --out /srv/recap --jobs 2
              recap worker --out /srv/recap --until-idle --json      # a cron batch: work, then exit
            """
    )

    @OptionGroup var options: RunOptions

    @Option(name: .customLong("poll-seconds"), help: "Seconds to wait before looking again when no job is ready.")
    var pollSeconds: Double = 5

    @Flag(name: .customLong("until-idle"), help: "Exit when no job is ready instead of waiting for more.")
    var untilIdle = false

    func validate() throws {
        guard pollSeconds >= 0.1 && pollSeconds <= 3600 else { throw ValidationError("--poll-seconds must be between 0.1 and 3600") }
    }

    func run() async throws {
        let o = await options.openOutput("worker")
        let relativePaths = (try? await o.queue.allRelativePaths()) ?? []
        let (runner, theEngine) = await options.makeRunner(o, relativePaths: relativePaths, command: "worker")
        let workerOptions = Runner.WorkerOptions(pollSeconds: pollSeconds, untilIdle: untilIdle)
        let work = Task {
            var summary = await runner.work(workerOptions)
            summary.engineServers = (theEngine as? EnginePool)?.endpointReports()
            await theEngine.shutdown()
            return summary
        }
        let signals = SignalCancellation { work.cancel() }
        let summary = await work.value
        signals.stop()
        try options.report(summary)
        // Stopping is a worker's normal end (systemd, Kubernetes): 0 unless something failed.
        let code = summary.interrupted && summary.exitCode == 130 ? (summary.failures.isEmpty ? 0 : 2) : summary.exitCode
        if code != 0 { throw ExitCode(code) }
    }
}
