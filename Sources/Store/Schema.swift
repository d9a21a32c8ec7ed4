import GRDB

/// The store's schema, only ever changed by appending migrations here. A store written by an older
/// Recap opens and is upgraded in place; one written by a newer Recap is refused
/// (``StoreError/newerSchema(path:unknownMigrations:)``).
enum Schema {
    /// `PRAGMA application_id` of every Recap store ("RECP"), set by the first migration. It is how
    /// a Recap store is told apart from someone else's SQLite file.
    static let applicationID: Int32 = 0x5245_4350

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()

        m.registerMigration("v1-jobs") { db in
            try db.execute(sql: "PRAGMA application_id = \(applicationID)")
            // Times are REAL Unix seconds: cheap to compare in SQL, and shared by every process.
            try db.create(table: "jobs") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("fingerprint", .text).notNull()
                t.column("pipeline", .text).notNull()
                t.column("pipelineVersion", .text).notNull()
                t.column("engine", .text).notNull()
                t.column("path", .text).notNull()
                t.column("state", .text).notNull()
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("maxAttempts", .integer).notNull()
                t.column("notBefore", .double).notNull()
                t.column("leaseOwner", .text)
                t.column("leaseToken", .integer)
                t.column("leaseExpiresAt", .double)
                t.column("createdAt", .double).notNull()
                t.column("updatedAt", .double).notNull()
                t.column("finishedAt", .double)
                t.column("result", .text)
                t.column("lastError", .text)
                // The idempotency key: same content, same pipeline version, same engine+models = same job.
                t.uniqueKey(["fingerprint", "pipeline", "pipelineVersion", "engine"])
            }
            // Claim order: ready jobs by notBefore. Partial, so the claim query reads one index entry.
            try db.execute(sql: """
                CREATE INDEX jobs_ready ON jobs(notBefore, id) WHERE state IN ('queued','failed');
                CREATE INDEX jobs_leases ON jobs(leaseExpiresAt) WHERE state = 'running';
                CREATE INDEX jobs_state ON jobs(state, updatedAt);
                """)
            try db.create(table: "stages") { t in
                t.column("jobId", .integer).notNull().references("jobs", onDelete: .cascade)
                t.column("stage", .text).notNull()
                t.column("result", .text)
                t.column("fileRef", .text)
                t.column("startedAt", .double).notNull()
                t.column("finishedAt", .double).notNull()
                t.column("attempt", .integer).notNull()
                t.primaryKey(["jobId", "stage"])
            }
            try db.create(table: "attempts") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("jobId", .integer).notNull().indexed().references("jobs", onDelete: .cascade)
                t.column("number", .integer).notNull()
                t.column("owner", .text).notNull()
                t.column("startedAt", .double).notNull()
                t.column("endedAt", .double)
                t.column("outcome", .text).notNull()
                t.column("stage", .text)
                t.column("message", .text)
            }
            try db.create(table: "runs") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("command", .text).notNull()
                t.column("host", .text).notNull()
                t.column("pid", .integer).notNull()
                t.column("startedAt", .double).notNull()
                t.column("endedAt", .double)
                t.column("discovered", .integer).notNull().defaults(to: 0)
                t.column("enqueued", .integer).notNull().defaults(to: 0)
                t.column("succeeded", .integer).notNull().defaults(to: 0)
                t.column("failed", .integer).notNull().defaults(to: 0)
                t.column("skipped", .integer).notNull().defaults(to: 0)
            }
        }

        m.registerMigration("v2-files-and-engine-calls") { db in
            // The stat cache behind fast rescans: a path whose (device, inode, size, mtime) is unchanged
            // keeps its fingerprint without being read.
            try db.create(table: "files") { t in
                t.primaryKey("path", .text)
                t.column("device", .integer).notNull()
                t.column("inode", .integer).notNull()
                t.column("size", .integer).notNull()
                t.column("mtimeNs", .integer).notNull()
                t.column("fingerprint", .text).notNull()
                t.column("checkedAt", .double).notNull()
            }
            try db.create(table: "engineCalls") { t in
                t.column("jobId", .integer).notNull().references("jobs", onDelete: .cascade)
                t.column("stage", .text).notNull()
                t.column("count", .integer).notNull()
                t.primaryKey(["jobId", "stage"])
            }
        }

        m.registerMigration("v3-search") { db in
            // Rows live in a plain table (indexed by job, so replacing a job's rows is cheap); the FTS5
            // table indexes their text as external content, kept in sync by triggers.
            try db.create(table: "searchEntries") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("jobId", .integer).notNull().indexed().references("jobs", onDelete: .cascade)
                t.column("path", .text).notNull()
                t.column("kind", .text).notNull()
                t.column("start", .double)
                t.column("end", .double)
                t.column("text", .text).notNull()
            }
            try db.create(virtualTable: "searchIndex", using: FTS5()) { t in
                t.synchronize(withTable: "searchEntries")
                t.tokenizer = .porter(wrapping: .unicode61())
                t.column("text")
            }
        }

        m.registerMigration("v4-files-by-fingerprint") { db in
            // Copies and moves: which other paths were seen with the same content (`knownPaths(fingerprint:)`).
            try db.create(index: "filesByFingerprint", on: "files", columns: ["fingerprint"])
        }
        m.registerMigration("v5-embeddings") { db in
            // Meaning-based search. Vectors are keyed by (embedding model, SHA-256 of the text), not by entry:
            // re-indexing a job gives its entries new ids, and only a new text or a new model needs a new vector.
            try db.alter(table: "searchEntries") { t in
                t.add(column: "speaker", .text)
                t.add(column: "textHash", .text)
            }
            let rows = try Row.fetchAll(db, sql: "SELECT id, text FROM searchEntries")
            for row in rows {
                let text: String = row["text"]
                try db.execute(sql: "UPDATE searchEntries SET textHash = ? WHERE id = ?",
                               arguments: [SearchText.hash(text), row["id"] as Int64])
            }
            try db.create(index: "searchEntriesByText", on: "searchEntries", columns: ["textHash"])
            try db.create(table: "embeddings", options: [.withoutRowID]) { t in
                t.column("model", .text).notNull()
                t.column("textHash", .text).notNull()
                // Little-endian IEEE half floats, L2-normalised: 768 bytes for a 384-dimension vector.
                t.column("vector", .blob).notNull()
                t.primaryKey(["model", "textHash"])
            }
            // What search filters on, one row per indexed job (written with its entries).
            try db.create(table: "searchMedia") { t in
                t.primaryKey("jobId", .integer).references("jobs", onDelete: .cascade)
                t.column("duration", .double)
                t.column("language", .text)
                t.column("mediaDate", .double)
            }
        }
        m.registerMigration("v6-corrections") { db in
            // A person's corrections of a job's output (title, summary, a caption), kept beside the model's
            // answer and never written over it: together they are fine-tuning examples (`recap export`).
            try db.create(table: "corrections") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("jobId", .integer).notNull().indexed().references("jobs", onDelete: .cascade)
                t.column("field", .text).notNull()
                t.column("value", .text).notNull()
                t.column("original", .text)
                t.column("createdAt", .double).notNull()
            }
        }
        m.registerMigration("v7-workers") { db in
            // The worker registry behind `recap status`: one row per worker start, ids never reused.
            try db.create(table: "workers") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull()
                t.column("host", .text).notNull()
                t.column("pid", .integer).notNull()
                t.column("startedAt", .double).notNull()
                t.column("lastHeartbeat", .double).notNull()
                t.column("jobsDone", .integer).notNull().defaults(to: 0)
                t.column("failures", .integer).notNull().defaults(to: 0)
            }
            // Retention (pruneFinished) finds old finished jobs without reading the live ones.
            try db.execute(sql: """
                CREATE INDEX jobs_finished ON jobs(finishedAt) WHERE state IN ('succeeded','dead','cancelled')
                """)
        }
        m.registerMigration("v8-degraded-is-ready") { db in
            // A degraded job is claimed again once its backoff ends: the claim's partial index must hold it.
            try db.execute(sql: """
                DROP INDEX jobs_ready;
                CREATE INDEX jobs_ready ON jobs(notBefore, id) WHERE state IN ('queued','failed','degraded');
                """)
        }
        m.registerMigration("v9-job-roots") { db in
            // Where a job's file lives, as an input root and a path under it: a worker on another host (or
            // mount) finds it through its own `--root NAME=PATH`, and mirrors it under --out as `recap run` would.
            try db.create(table: "jobRoots") { t in
                t.primaryKey("jobId", .integer).references("jobs", onDelete: .cascade)
                t.column("root", .text).notNull()
                t.column("relativePath", .text).notNull()
            }
        }
        return m
    }
}
