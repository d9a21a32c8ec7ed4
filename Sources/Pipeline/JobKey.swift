import Engine
import Foundation
import Store

/// A job's identity in the store, in a stable, documented encoding of what changes a result. The store keys a
/// job by (content fingerprint, pipeline, pipeline version, engine); a rerun with the same key does no work.
///
/// - `pipeline`: the pipeline's `name`.
/// - `pipelineVersion`: `"<version>#<h>"`, where `h` is the first 16 hex digits of the SHA-256 of the pipeline's
///   canonical content (`PipelineSpec.canonicalContent`: the YAML as JSON with sorted keys, `description` left
///   out). Editing a prompt, schema, limit or sampling setting makes new work; reformatting the file does not.
/// - `engine`: the engine's identity (`EngineIdentity.key`: backend and model names by role, never the server's
///   address), then `|transcripts=engine`, `|transcripts=whisper:<model>` or nothing when nobody listens.
///
/// Swift's own names never enter it: renaming a field or type in the code keeps every job's key.
public struct JobKey: Sendable, Equatable {
    public var spec: PipelineSpec
    public var engine: EngineDescription
    /// "engine", "whisper:<model>", or nil when the pipeline does not transcribe.
    public var transcripts: String?

    public init(spec: PipelineSpec, engine: EngineDescription, transcripts: String?) {
        self.spec = spec; self.engine = engine; self.transcripts = transcripts
    }

    public var pipelineDigest: String {
        String(Digest.sha256Hex(Data(spec.canonicalContent.utf8)).prefix(16))
    }

    public var identity: JobIdentity {
        JobIdentity(pipeline: spec.name, pipelineVersion: "\(spec.version)#\(pipelineDigest)",
                    engine: engine.identity + (transcripts.map { "|transcripts=\($0)" } ?? ""))
    }
}
