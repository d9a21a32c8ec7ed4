import Foundation
import Store

// `recap worker`: a long-running process that takes jobs from a shared store (filled by `recap run
// --enqueue-only`) and works them through the same stages as `recap run`.
extension Runner {
    public struct WorkerOptions: Sendable {
        /// How long to wait before looking again when no job is ready.
        public var pollSeconds: Double
        /// Stop when no job is ready (a batch worker for cron) instead of waiting for more.
        public var untilIdle: Bool
        public init(pollSeconds: Double = 5, untilIdle: Bool = false) { self.pollSeconds = pollSeconds; self.untilIdle = untilIdle }
    }

    /// Registers in the store's worker registry, then claims ready jobs of this pipeline and engine in batches
    /// until cancelled (SIGTERM: the job in hand is given back with its finished stages) or, with `untilIdle`,
    /// until none is ready. The registry row's heartbeat, jobs done and failures are what `recap status` shows.
    public func work(_ options: WorkerOptions) async -> RunSummary {
        let started = Date()
        var base = RunSummary(pipeline: "\(spec.name) v\(spec.version)", out: config.out.root.path, store: store.location)
        let workerID: Int64
        do {
            workerID = try await store.registerWorker(name: config.owner, host: ProcessInfo.processInfo.hostName, pid: Int(getpid()))
        } catch {
            base.failures.append(.init(path: store.location, stage: nil, reason: "could not register in the job store: \(error)"))
            base.settleExitCode()
            return base
        }
        await sweepWorkFolders()
        let tally = Tally(base)
        let id = identity
        // Liveness for `recap status`, also while one long file is in hand: every third of a lease.
        let liveness = Task {
            while !Task.isCancelled {
                await beat(workerID, tally)
                try? await Task.sleep(nanoseconds: UInt64(max(1, config.leaseSeconds / 3) * 1e9))
            }
        }
        defer { liveness.cancel() }
        while !Task.isCancelled {
            let ready: [Job]
            do { ready = try await store.readyJobs(identity: id, limit: max(4, config.jobs * 4)) } catch {
                // The store may be unavailable for a while (a database restart, a network cut, a locked file): say
                // so and look again later. Not idle: --until-idle waits for an answer before it stops.
                FileHandle.standardError.write(Data("recap worker: the job store did not answer (\(error)); retrying\n".utf8))
                try? await Task.sleep(nanoseconds: UInt64(options.pollSeconds * 1e9))
                continue
            }
            let tickets = await tickets(for: ready, tally: tally)
            if tickets.isEmpty {
                // None ready, or none that can be done here (its file is elsewhere): wait before looking again,
                // so a job nobody here can do is not polled in a tight loop.
                if options.untilIdle { break }
                try? await Task.sleep(nanoseconds: UInt64(options.pollSeconds * 1e9))
                continue
            }
            await progress.begin(total: tickets.count)
            await process(tickets, tally: tally)
            await progress.end()
            if await tally.get().engineUnavailable != nil { break }
        }
        var summary = await tally.get()
        if Task.isCancelled { summary.interrupted = true }
        summary.wallSeconds = Date().timeIntervalSince(started)
        summary.settleExitCode()
        await beat(workerID, tally)
        return summary
    }

    private func beat(_ workerID: Int64, _ tally: Tally) async {
        let s = await tally.get()
        try? await store.workerHeartbeat(workerID, jobsDone: s.succeeded + s.degraded.count, failures: s.failures.count)
    }

    /// Where each ready job's file is on this host. A job whose root this host does not map, whose file is
    /// missing, or whose bytes are not the ones enqueued (another file at the same place) fails with the reason
    /// and waits for its backoff, so another host, or this one after a fix, can take it.
    private func tickets(for jobs: [Job], tally: Tally) async -> [JobTicket] {
        let roots = (try? await store.roots(jobIDs: jobs.map(\.id))) ?? [:]
        var out: [JobTicket] = []
        for job in jobs {
            let root = roots[job.id] ?? JobRoot(root: (job.path as NSString).deletingLastPathComponent,
                                                          relativePath: (job.path as NSString).lastPathComponent)
            switch locate(job, root) {
            case .success(let url):
                let base = config.roots.locate(root: root.root, relativePath: "") ?? url.deletingLastPathComponent()
                out.append(JobTicket(jobID: job.id, file: Discovery.File(url: url, root: base, relativePath: root.relativePath,
                                                                         size: 0, mtime: 0, inode: 0, device: 0)))
            case .failure(let problem):
                if let claimed = try? await store.claim(jobID: job.id, owner: config.owner, leaseDuration: config.leaseSeconds) {
                    _ = try? await store.fail(claimed.lease, stage: nil, message: problem.description, retryable: true)
                    await record(failure: .init(path: root.relativePath, stage: nil, reason: problem.description), job: job.id, tally: tally)
                }
            }
        }
        return out
    }

    /// The job's file on this host, if its root is mapped and its bytes are the ones enqueued.
    private func locate(_ job: Job, _ root: JobRoot) -> Result<URL, FileProblem> {
        guard let url = config.roots.locate(root: root.root, relativePath: root.relativePath) else {
            return .failure(FileProblem("its root \"\(root.root)\" is not mapped on this host; give --root \(root.root)=PATH"))
        }
        guard let fingerprint = try? Fingerprint.of(path: url.path, mode: .sampled) else {
            return .failure(FileProblem("cannot read \(url.path) on this host"))
        }
        guard fingerprint == job.fingerprint else {
            return .failure(FileProblem("\(url.path) on this host is not the file that was enqueued (its content differs)"))
        }
        return .success(url)
    }
}

/// Why a worker cannot process a job's file here.
struct FileProblem: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
