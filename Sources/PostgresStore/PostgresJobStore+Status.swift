import Foundation
import PostgresNIO
import Store

extension PostgresJobStore {
    /// What `recap status` shows of a shared store: jobs by state, the latest failed attempts, the last hour's
    /// pace and stage times. Runs are not here: each host keeps its own run log.
    public func summary(failures limit: Int) async throws -> StoreSummary {
        var counts: [JobState: Int] = [:]
        for row in try await query("SELECT state, count(*) FROM jobs GROUP BY state") {
            let (state, n) = try row.decode((String, Int64).self)
            if let s = JobState(rawValue: state) { counts[s] = Int(n) }
        }
        let failures = try await query("""
            SELECT a.job_id, j.path, j.state, a.number, a.outcome, a.stage, a.message, a.ended_at
            FROM attempts a JOIN jobs j ON j.id = a.job_id
            WHERE a.outcome IN ('failed', 'expired') ORDER BY a.ended_at DESC NULLS LAST, a.id DESC LIMIT \(Int64(limit))
            """).map { row in
            let (id, path, state, number, outcome, stage, message, at) = try row.decode((Int64, String, String, Int64, String, String?, String?, Date?).self)
            return StoreSummary.Failure(jobID: id, path: path, state: JobState(rawValue: state) ?? .failed, attempt: Int(number),
                                        outcome: AttemptOutcome(rawValue: outcome) ?? .failed, stage: stage.map(Stage.init(rawValue:)),
                                        message: message ?? "", at: at ?? Date())
        }
        let lastHour = try await query("SELECT count(*) FROM jobs WHERE state = 'succeeded' AND finished_at >= now() - interval '1 hour'")
            .first?.decode(Int64.self) ?? 0
        var means: [Stage: Double] = [:]
        for row in try await query("""
            SELECT stage, avg(extract(epoch FROM finished_at - started_at))::float8 FROM
              (SELECT stage, started_at, finished_at FROM stages ORDER BY finished_at DESC LIMIT 1000) recent
            GROUP BY stage
            """) {
            let (stage, mean) = try row.decode((String, Double).self)
            means[Stage(rawValue: stage)] = mean
        }
        let calls = try await query("SELECT COALESCE(sum(calls), 0)::bigint FROM engine_calls").first?.decode(Int64.self) ?? 0
        return StoreSummary(path: location, counts: counts, runs: [], failures: failures,
                            throughput: .init(succeededLastHour: Int(lastHour), lastRunJobsPerMinute: nil, meanStageSeconds: means),
                            engineCalls: Int(calls))
    }
}
