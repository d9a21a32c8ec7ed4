import Logging
import PostgresNIO
import Store

/// The PostgreSQL schema, only ever changed by appending a numbered migration here (never editing one that
/// shipped). Applied migrations are recorded in `recap_migrations`; a database with migrations this build
/// does not know was written by a newer Recap and is refused.
enum PostgresMigrations {
    struct Migration {
        let id: Int64
        let name: String
        /// One statement each: the extended query protocol runs one at a time.
        let statements: [String]
    }

    /// "RECP": the advisory lock key that serializes migrations between processes starting together.
    static let lockKey: Int64 = 0x5245_4350

    static let all: [Migration] = [
        Migration(id: 1, name: "jobs", statements: [
            // fillfactor < 100 leaves room on each page, so the many small updates of a queue row stay HOT
            // (no index writes); aggressive autovacuum keeps dead versions of finished claims from piling up.
            """
            CREATE TABLE jobs (
              id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
              fingerprint text NOT NULL, pipeline text NOT NULL, pipeline_version text NOT NULL, engine text NOT NULL,
              path text NOT NULL, state text NOT NULL, attempts bigint NOT NULL DEFAULT 0, max_attempts bigint NOT NULL,
              not_before timestamptz NOT NULL, lease_owner text, lease_token bigint, lease_expires_at timestamptz,
              created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, finished_at timestamptz,
              result text, last_error text,
              UNIQUE (fingerprint, pipeline, pipeline_version, engine)
            ) WITH (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02)
            """,
            // Claim order, partial so a claim reads only ready rows (degraded ones wait out a backoff too).
            "CREATE INDEX jobs_ready ON jobs (not_before, id) WHERE state IN ('queued','failed','degraded')",
            "CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE state = 'running'",
            "CREATE INDEX jobs_state ON jobs (state, updated_at)",
            "CREATE INDEX jobs_finished ON jobs (finished_at) WHERE state IN ('succeeded','dead','cancelled')",
            """
            CREATE TABLE stages (
              job_id bigint NOT NULL REFERENCES jobs ON DELETE CASCADE, stage text NOT NULL,
              result text, file_ref text, started_at timestamptz NOT NULL, finished_at timestamptz NOT NULL,
              attempt bigint NOT NULL, PRIMARY KEY (job_id, stage)
            )
            """,
            """
            CREATE TABLE attempts (
              id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
              job_id bigint NOT NULL REFERENCES jobs ON DELETE CASCADE, number bigint NOT NULL, owner text NOT NULL,
              started_at timestamptz NOT NULL, ended_at timestamptz, outcome text NOT NULL, stage text, message text
            )
            """,
            "CREATE INDEX attempts_job ON attempts (job_id)",
        ]),
        Migration(id: 2, name: "workers", statements: [
            // Identity columns come from a sequence: an id is never handed out twice, even across restarts.
            """
            CREATE TABLE workers (
              id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, host text NOT NULL,
              pid bigint NOT NULL, started_at timestamptz NOT NULL, last_heartbeat timestamptz NOT NULL,
              jobs_done bigint NOT NULL DEFAULT 0, failures bigint NOT NULL DEFAULT 0
            )
            """,
        ]),
        Migration(id: 3, name: "pipeline-data", statements: [
            // Where each job's file is, as input root + relative path (hosts map roots to their own mounts).
            """
            CREATE TABLE job_roots (
              job_id bigint PRIMARY KEY REFERENCES jobs ON DELETE CASCADE, root text NOT NULL, relative_path text NOT NULL
            )
            """,
            """
            CREATE TABLE engine_calls (
              job_id bigint NOT NULL REFERENCES jobs ON DELETE CASCADE, stage text NOT NULL, calls bigint NOT NULL,
              PRIMARY KEY (job_id, stage)
            )
            """,
            // The texts search indexes, with a word index ('simple': no stemming, names stay names).
            """
            CREATE TABLE search_entries (
              id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
              job_id bigint NOT NULL REFERENCES jobs ON DELETE CASCADE, path text NOT NULL, kind text NOT NULL,
              start_s double precision, end_s double precision, text text NOT NULL, speaker text,
              words tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED
            )
            """,
            "CREATE INDEX search_entries_job ON search_entries (job_id)",
            "CREATE INDEX search_entries_words ON search_entries USING gin (words)",
            """
            CREATE TABLE search_media (
              job_id bigint PRIMARY KEY REFERENCES jobs ON DELETE CASCADE,
              duration double precision, language text, media_date double precision
            )
            """,
        ]),
        Migration(id: 4, name: "lean-job-updates", statements: [
            // A claim and a completion each change `state`, so neither update is HOT: every index whose rows
            // they fall in gets a new entry. (state, updated_at) took one per claim and one per completion, for
            // `recap jobs list` and the status page, which count all jobs anyway or look at the few in trouble.
            // Those have a partial index now, which the healthy path never writes.
            "DROP INDEX jobs_state",
            "CREATE INDEX jobs_trouble ON jobs (updated_at) WHERE state IN ('failed','dead','degraded','cancelled')",
        ]),
        Migration(id: 5, name: "search-stems", statements: [
            // Words match as in the SQLite store (FTS5's porter tokenizer): by English stem, so "plant" finds
            // "plants", and with no stop words, so every word of a query counts ("the end" needs "the"). 'simple'
            // (migration 3) does not stem; 'english' drops stop words, and a query of stop words alone would find
            // nothing. Hence its snowball stemmer without a stop word list.
            "CREATE TEXT SEARCH DICTIONARY recap_stem (TEMPLATE = snowball, Language = english)",
            "CREATE TEXT SEARCH CONFIGURATION recap_words (COPY = english)",
            "ALTER TEXT SEARCH CONFIGURATION recap_words ALTER MAPPING REPLACE english_stem WITH recap_stem",
            // A generated column's expression cannot be altered (before PostgreSQL 17): dropped (its index with
            // it) and added again, computed for the rows already there.
            "ALTER TABLE search_entries DROP COLUMN words",
            "ALTER TABLE search_entries ADD COLUMN words tsvector GENERATED ALWAYS AS (to_tsvector('recap_words', text)) STORED",
            "CREATE INDEX search_entries_words ON search_entries USING gin (words)",
        ]),
        Migration(id: 6, name: "search-vectors", statements: [
            // One vector per distinct text and embedding model, as in the SQLite store: a text shared by many
            // entries (or copies of a file) is embedded once. md5 names a text here, not a secret.
            "ALTER TABLE search_entries ADD COLUMN text_hash text GENERATED ALWAYS AS (md5(text)) STORED",
            "CREATE INDEX search_entries_text_hash ON search_entries (text_hash)",
            """
            CREATE TABLE embeddings (
              model text NOT NULL, text_hash text NOT NULL, vector bytea NOT NULL, PRIMARY KEY (model, text_hash)
            )
            """,
        ]),
    ]

    /// Brings the schema up to date inside the caller's transaction.
    static func migrate(_ db: PostgresConnection, location: String, logger: Logger) async throws {
        // Held until the transaction ends: a second process starting now waits, then finds nothing to do.
        try await db.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
        try await db.query("""
            CREATE TABLE IF NOT EXISTS recap_migrations (
              id bigint PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
            """, logger: logger)
        var applied: [Int64: String] = [:]
        for row in try await db.rows("SELECT id, name FROM recap_migrations", logger) {
            let (id, name) = try row.decode((Int64, String).self)
            applied[id] = name
        }
        let known = Set(all.map(\.id))
        let unknown = applied.filter { !known.contains($0.key) }.map { "\($0.key)-\($0.value)" }
        if !unknown.isEmpty { throw StoreError.newerSchema(path: location, unknownMigrations: unknown.sorted()) }
        for migration in all where applied[migration.id] == nil {
            for sql in migration.statements { try await db.query(PostgresQuery(unsafeSQL: sql), logger: logger) }
            try await db.query(
                "INSERT INTO recap_migrations (id, name) VALUES (\(migration.id), \(migration.name))", logger: logger)
        }
    }
}
