import Engine
import Foundation
import Media
import Store

/// Everything a finished job knows, as the write stage receives it.
struct JobResult: Sendable {
    var file: Discovery.File
    var fingerprint: String
    var probe: RecapOutput.Probe
    var frames: FrameSet
    var transcript: RecapOutput.Transcript?
    var scenes: [RecapOutput.Scene]
    var summary: SummaryCheckpoint
    var warnings: [String]
    var timings: [String: Double]
    var workDir: URL
}

/// The write stage: `NAME.recap.json`, subtitles and the contact sheet, atomically, under `--out`; and the
/// job's search entries.
struct WriteStage: Sendable {
    let spec: PipelineSpec
    let out: OutputPaths
    let engine: EngineDescription
    /// The job's engine identity (engine models plus how transcripts are made).
    let identity: String
    /// The OCR model the frames stage reads on-screen text with (nil when OCR is off).
    let ocrModel: String?

    func write(_ r: JobResult) throws -> [String] {
        let rel = r.file.relativePath
        let (folder, base) = try out.location(forRelativePath: rel)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        AtomicFile.sweep(folder)
        var files = RecapOutput.Files(json: base + ".recap.json")
        var written: [URL] = []
        let segments = r.transcript?.segments ?? []
        if !segments.isEmpty {
            if spec.files.contains(.srt) {
                let u = try out.file(forRelativePath: rel, suffix: ".srt")
                try AtomicFile.write(Data(Subtitles.srt(segments, rules: spec.subtitles).utf8), to: u); files.srt = u.lastPathComponent; written.append(u)
            }
            if spec.files.contains(.vtt) {
                let u = try out.file(forRelativePath: rel, suffix: ".vtt")
                try AtomicFile.write(Data(Subtitles.vtt(segments, rules: spec.subtitles).utf8), to: u); files.vtt = u.lastPathComponent; written.append(u)
            }
        }
        if spec.files.contains(.contactSheet), let sheet = r.frames.contactSheet {
            let src = r.workDir.appendingPathComponent(sheet)
            if FileManager.default.fileExists(atPath: src.path) {
                let u = try out.file(forRelativePath: rel, suffix: ".contact.jpg")
                try AtomicFile.copy(from: src, to: u); files.contactSheet = u.lastPathComponent; written.append(u)
            }
        }
        var provenance = r.summary.provenance
        provenance["source.probe"] = "measured"
        // A transcript the engine's model heard is the model's; whisper's is a measurement of the audio.
        provenance["transcript"] = r.transcript?.source == "engine" ? "model" : "measured"
        provenance["scenes.ocr_text"] = "measured"
        provenance["scenes.facts"] = "measured"
        provenance["scenes.description"] = r.scenes.contains { $0.descriptionSource == "model" } ? "model" : "measured"
        provenance["extract"] = "extractive"
        var timings = r.timings.mapValues { round3($0) }
        timings["total"] = round3(r.timings.values.reduce(0, +))
        let output = RecapOutput(
            source: .init(path: rel, fingerprint: r.fingerprint, sizeBytes: r.file.size, probe: r.probe),
            pipeline: .init(name: spec.name, version: spec.version),
            engine: .init(backend: engine.backend, identity: identity, models: modelsUsed(r), capabilities: engine.capabilityNames),
            transcript: r.transcript, scenes: r.scenes, extract: r.summary.extract, results: r.summary.results,
            grounding: r.summary.grounding, provenance: provenance, files: files, timings: timings,
            warnings: r.warnings + r.summary.warnings, createdAt: ISO8601DateFormatter().string(from: Date()))
        let json = try out.file(forRelativePath: rel, suffix: ".recap.json")
        try AtomicFile.write(try output.encoded(), to: json)
        written.append(json)
        return written.map(\.path)
    }

    /// The models that really produced this output, by role: the language model always; the vision model only
    /// when it described a scene; the transcript's maker (whisper, or the engine's audio model); OCR only when
    /// it read text.
    func modelsUsed(_ r: JobResult) -> [String: String] {
        var models: [String: String] = [:]
        if let language = engine.models["language"] { models["language"] = language }
        if r.scenes.contains(where: { $0.descriptionSource == "model" }) {
            models["vision"] = engine.models["vision"] ?? engine.models["language"]
        }
        if let t = r.transcript { models[t.source == "engine" ? "audio" : "speech"] = t.model }
        if r.frames.frames.contains(where: { !$0.ocrText.isEmpty }), let ocrModel { models["ocr"] = ocrModel }
        return models
    }

    /// What search filters this job's hits on.
    func searchMedia(_ r: JobResult) -> SearchMedia {
        let made = r.probe.tags["creation_time"].flatMap(SearchPassages.date) ?? r.file.mtime
        return SearchMedia(duration: r.probe.durationSeconds, language: r.transcript?.language, date: made)
    }

    func searchEntries(_ r: JobResult) -> [SearchEntry] {
        var e: [SearchEntry] = []
        let idx = Set(spec.index)
        if idx.contains("transcript") {
            e += SearchPassages.transcript(r.transcript?.segments ?? [])
        }
        if idx.contains("scenes") {
            e += r.scenes.filter { $0.descriptionSource == "model" }.map { SearchEntry(kind: .scene, start: $0.start, end: $0.end, text: $0.description) }
        }
        if idx.contains("ocr") {
            e += r.scenes.filter { !$0.ocrText.isEmpty }.map { SearchEntry(kind: .ocr, start: $0.frameTime, end: $0.end, text: $0.ocrText) }
        }
        if idx.contains("summary") {
            var texts: [String] = []
            func collect(_ j: JSONValue) {
                switch j {
                case .string(let s): texts.append(s)
                case .array(let a): a.forEach(collect)
                case .object(let o): for (k, v) in o.sorted(by: { $0.key < $1.key }) where !["transcript", "ocr_text", "scenes"].contains(k) { collect(v) }
                default: break
                }
            }
            collect(r.summary.results)
            e.append(SearchEntry(kind: .summary, text: texts.joined(separator: "\n")))
        }
        return e
    }
}
