import Foundation
import GRDB

/// Everything `recap status` shows, gathered in one read snapshot.
public struct StoreSummary: Sendable {
    /// A recent failed attempt, with its error.
    public struct Failure: Sendable, Hashable {
        public var jobID: Int64
        public var path: String
        /// The job's state now (failed = will retry, dead = gave up, or since recovered).
        public var state: JobState
        public var attempt: Int
        public var outcome: AttemptOutcome
        public var stage: Stage?
        public var message: String
        public var at: Date

        public init(jobID: Int64, path: String, state: JobState, attempt: Int, outcome: AttemptOutcome, stage: Stage?, message: String, at: Date) {
            self.jobID = jobID; self.path = path; self.state = state; self.attempt = attempt; self.outcome = outcome
            self.stage = stage; self.message = message; self.at = at
        }
    }

    public struct Throughput: Sendable, Hashable {
        /// Jobs that succeeded in the hour before now.
        public var succeededLastHour: Int
        /// Jobs per minute over the most recent finished run that succeeded any (nil if none).
        public var lastRunJobsPerMinute: Double?
        /// Mean seconds per stage over the most recent 1,000 checkpoints.
        public var meanStageSeconds: [Stage: Double]

        public init(succeededLastHour: Int, lastRunJobsPerMinute: Double?, meanStageSeconds: [Stage: Double]) {
            self.succeededLastHour = succeededLastHour; self.lastRunJobsPerMinute = lastRunJobsPerMinute; self.meanStageSeconds = meanStageSeconds
        }
    }

    public var path: String
    public var counts: [JobState: Int]
    public var runs: [RunRecord]
    public var failures: [Failure]
    public var throughput: Throughput
    public var engineCalls: Int

    public init(path: String, counts: [JobState: Int], runs: [RunRecord], failures: [Failure], throughput: Throughput, engineCalls: Int) {
        self.path = path; self.counts = counts; self.runs = runs; self.failures = failures; self.throughput = throughput
        self.engineCalls = engineCalls
    }
}

extension JobStore {
    public func summary(runs runLimit: Int = 5, failures failureLimit: Int = 5) throws -> StoreSummary {
        let counts = try counts()
        return try read { db in
            let now = now()
            let runs = try RunRecord.fetchAll(db, sql: "SELECT * FROM runs ORDER BY id DESC LIMIT ?", arguments: [runLimit])
            let failures = try Row.fetchAll(
                db, sql: """
                    SELECT a.jobId, j.path, j.state, a.number, a.outcome, a.stage, a.message, a.endedAt
                    FROM attempts a JOIN jobs j ON j.id = a.jobId
                    WHERE a.outcome IN ('failed', 'expired') ORDER BY a.endedAt DESC, a.id DESC LIMIT ?
                    """, arguments: [failureLimit]
            ).map { row in
                StoreSummary.Failure(
                    jobID: row["jobId"], path: row["path"], state: JobState(rawValue: row["state"]) ?? .failed,
                    attempt: row["number"], outcome: AttemptOutcome(rawValue: row["outcome"]) ?? .failed,
                    stage: (row["stage"] as String?).map(Stage.init(rawValue:)), message: row["message"] ?? "",
                    at: Date(timeIntervalSince1970: row["endedAt"] ?? 0))
            }
            let lastHour = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM jobs WHERE state = 'succeeded' AND finishedAt >= ?", arguments: [now - 3600]) ?? 0
            var perMinute: Double?
            if let run = runs.first(where: { $0.endedAt != nil && $0.counts.succeeded > 0 }), let end = run.endedAt {
                let minutes = max(end.timeIntervalSince(run.startedAt), 0.001) / 60
                perMinute = Double(run.counts.succeeded) / minutes
            }
            var means: [Stage: Double] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT stage, AVG(finishedAt - startedAt) AS mean FROM
                  (SELECT stage, startedAt, finishedAt FROM stages ORDER BY finishedAt DESC LIMIT 1000)
                GROUP BY stage
                """)
            {
                means[Stage(rawValue: row["stage"])] = row["mean"]
            }
            let calls = try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(count), 0) FROM engineCalls") ?? 0
            return StoreSummary(
                path: path, counts: counts, runs: runs, failures: failures,
                throughput: .init(succeededLastHour: lastHour, lastRunJobsPerMinute: perMinute, meanStageSeconds: means),
                engineCalls: calls)
        }
    }
}
