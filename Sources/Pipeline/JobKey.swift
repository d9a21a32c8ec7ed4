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

    /// The key releases before this one gave the same work (transcripts by whisper): a hash of Swift's
    /// reflection text of the pipeline's structs, and `+whisper:<model>` after the engine. Used once per run to
    /// adopt such jobs (`JobStore.adopt`), so that upgrading does not redo a finished archive. Nothing else
    /// reads it; it can go once stores made before this release are gone.
    public static func legacyIdentity(spec s: PipelineSpec, engine: EngineDescription, whisperModel: String?) -> JobIdentity {
        let text = [s.name, "\(s.version)", s.stages.map(\.rawValue).joined(separator: ","),
                    "\(s.frames)", "\(s.audio)", s.mapPrompt.map { "\($0)" } ?? "", "\(s.reducePrompt)",
                    s.resultSchema.jsonString(), s.limits.map { "\($0)" }.joined(separator: ";"), s.files.map(\.rawValue).joined(separator: ",")]
            .joined(separator: "\u{1}")
        var engineID = engine.identity
        if let whisperModel, s.audio.enabled { engineID += "+whisper:\(whisperModel)" }
        return JobIdentity(pipeline: s.name, pipelineVersion: "\(s.version)#\(fnv1a(text))", engine: engineID)
    }
}
