import Engine
import Foundation
import Media

/// Who turns a file's audio into its transcript (`recap run --transcripts`).
public enum TranscriptSource: String, Sendable, Codable, CaseIterable {
    /// The engine's model listens to each clip (≤ 30 s) and answers with the words, clip-level times, and what
    /// else it hears (sounds, music, tone). One request per clip.
    case engine
    /// Local whisper.cpp: word-timed subtitles, gated against music and silence; works with any engine.
    case whisper

    /// An engine that hears audio itself answers; one that does not (text-only, vision-only, or the embedded
    /// default, whose "hearing" is whisper anyway) leaves it to whisper.
    public static func `default`(for engine: EngineDescription) -> TranscriptSource {
        engine.hearsAudio ? .engine : .whisper
    }
}

/// The hear stage's checkpoint.
struct HeardAudio: Codable, Sendable {
    var transcript: RecapOutput.Transcript?
    var warnings: [String]
}

/// The hear stage: the audio stage's clips (≤ 30 s, cut at quiet points, in the job's work folder) become the
/// file's transcript, in the file's clock.
struct HearStage: Sendable {
    enum By: Sendable {
        case whisper(any SpeechPort)
        case engine(any EnginePort)
    }
    let by: By
    /// "auto" or an ISO 639-1 code.
    let language: String

    /// Longest stretch of consecutive clips whisper reads in one call. The clips are ≤ 30 s for the engine's
    /// audio input; whisper reads better and faster over longer audio (it slides its own window instead of
    /// re-reading each clip's unfinished last sentence). 120 s of samples is 7.5 MB.
    static let whisperBlockSeconds = 120.0

    /// `hints`: words the speech likely holds, spelled right (`SpeechHints`); they become whisper's initial
    /// prompt, or a line of the engine's hearing task.
    func run(_ clips: [AudioClipFile], work: URL, counter: EngineCallCounter, hints: String? = nil) async throws -> HeardAudio {
        switch by {
        case .whisper(let speech):
            let blocks = Self.blocks(Self.speechBlocks(clips, maxSeconds: Self.whisperBlockSeconds), work: work)
            let r = try await speech.transcribe(blocks, language: language, prompt: hints)
            let tidy = { (segments: [RecapOutput.Segment]) in
                segments.map { s in
                    var s = s
                    s.start = round3(s.start); s.end = round3(s.end); s.text = s.text.trimmingCharacters(in: .whitespaces)
                    return s
                }.filter { !$0.text.isEmpty }
            }
            return HeardAudio(transcript: .init(language: r.language, model: speech.modelName, segments: tidy(r.segments),
                                                source: "whisper", languageProbability: r.languageProbability,
                                                translation: r.translation.map(tidy), timeline: r.timeline),
                              warnings: [])
        case .engine(let engine):
            return try await EngineHearing(engine: engine, language: language, hints: hints).run(clips, work: work, counter: counter)
        }
    }

    /// Groups clips into runs that are contiguous in time (a gap starts a new run) and at most `maxSeconds` long.
    static func speechBlocks(_ clips: [AudioClipFile], maxSeconds: Double) -> [[AudioClipFile]] {
        var blocks: [[AudioClipFile]] = []
        for clip in clips {
            if let last = blocks.last?.last, let first = blocks.last?.first,
               abs(last.start + last.duration - clip.start) < 0.05,
               clip.start + clip.duration - first.start <= maxSeconds {
                blocks[blocks.count - 1].append(clip)
            } else {
                blocks.append([clip])
            }
        }
        return blocks
    }

    /// The blocks' samples, read from the work folder one block at a time (memory: one block).
    static func blocks(_ groups: [[AudioClipFile]], work: URL) -> AsyncThrowingStream<AudioClip, any Error> {
        let cursor = Cursor()
        return AsyncThrowingStream(unfolding: {
            guard let i = cursor.next(below: groups.count) else { return nil }
            var samples: [Float] = []
            for clip in groups[i] { samples += try AudioClipFile.samples(at: work.appendingPathComponent(clip.file)) }
            return AudioClip(index: i, startTime: groups[i][0].start, sampleRate: 16_000, samples: samples)
        })
    }

    final class Cursor: @unchecked Sendable {
        private let lock = NSLock()
        private var i = 0
        func next(below n: Int) -> Int? { lock.withLock { defer { i += 1 }; return i < n ? i : nil } }
    }
}

extension AudioClipFile {
    /// The raw Float32 samples the audio stage wrote.
    static func samples(at url: URL) throws -> [Float] {
        let data = try Data(contentsOf: url)
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
}

/// The engine hears each clip: words with clip-level times, the language, and what else is in the audio.
struct EngineHearing: Sendable {
    let engine: any EnginePort
    let language: String
    var hints: String? = nil

    static let system = "You transcribe audio clips word for word and say what else can be heard. Never invent speech: music, singing without clear words, noise and silence have no segments."

    static func task(seconds: Double, language: String) -> String {
        let lang = language == "auto" ? "in the language spoken" : "in the language with code \(language)"
        return "Transcribe every word spoken in this \(String(format: "%.1f", seconds))-second audio clip \(lang), as segments with start and end in seconds from the start of the clip (0 to \(String(format: "%.1f", seconds))). Give the spoken language's ISO 639-1 code (empty when nobody speaks), the background sounds, whether music plays, and the tone of the speech."
    }

    static let schema: JSONValue = .object([
        "type": "object", "additionalProperties": false,
        "required": ["language", "segments", "sounds", "music", "tone"],
        "properties": .object([
            "language": .object(["type": "string", "maxLength": 12]),
            "segments": .object(["type": "array", "maxItems": 40, "items": .object([
                "type": "object", "additionalProperties": false, "required": ["start", "end", "text"],
                "properties": .object(["start": .object(["type": "number", "minimum": 0]),
                                       "end": .object(["type": "number", "minimum": 0]),
                                       "text": .object(["type": "string", "maxLength": 600])]),
            ])]),
            "sounds": .object(["type": "array", "maxItems": 8, "items": .object(["type": "string", "maxLength": 60])]),
            "music": .object(["type": "boolean"]),
            "tone": .object(["type": "string", "maxLength": 80]),
        ]),
    ])

    func run(_ clips: [AudioClipFile], work: URL, counter: EngineCallCounter) async throws -> HeardAudio {
        var segments: [RecapOutput.Segment] = []
        var heard: [RecapOutput.Heard] = []
        var votes: [String: Int] = [:]
        var warnings: [String] = []
        for clip in clips {
            try Task.checkCancellation()
            let samples = try AudioClipFile.samples(at: work.appendingPathComponent(clip.file))
            let seconds = Double(samples.count) / 16_000
            var task = Self.task(seconds: seconds, language: language)
            if let hints, !hints.isEmpty { task += " Names and words shown on screen, spelled as they should be: \(hints)" }
            let call = EngineCall(purpose: "hear", system: Self.system,
                                  parts: [.text(task), .audio(EngineAudio(samples: samples, start: clip.start))],
                                  schema: Self.schema, maxTokens: 900)
            let answer: EngineAnswer
            switch try await engine.ask(call, counter: counter) {
            case .success(let a): answer = a
            case .failure(let e):
                warnings.append("hear: no usable answer for the clip at \(Evidence.clock(clip.start)) (\(e)); its words are missing")
                continue
            }
            let parsed = Self.parse(answer.json, clipStart: clip.start, seconds: seconds, instructions: Self.system + " " + task)
            if let problem = parsed.problem {
                warnings.append("hear: the clip at \(Evidence.clock(clip.start)): \(problem); not stored as its transcript")
            }
            segments += parsed.segments
            heard.append(parsed.heard)
            if let l = parsed.language, !parsed.segments.isEmpty { votes[l, default: 0] += parsed.segments.count }
        }
        let lang = language == "auto" ? votes.max { $0.value < $1.value }?.key : language
        let model = engine.description.models["audio"] ?? engine.description.models["language"] ?? engine.description.backend
        return HeardAudio(transcript: .init(language: lang, model: model, segments: segments, source: "engine", heard: heard),
                          warnings: warnings)
    }

    struct Parsed { var segments: [RecapOutput.Segment]; var heard: RecapOutput.Heard; var language: String?; var problem: String? }

    /// The answer in the file's clock: times clamped into the clip, empty and echoed segments dropped.
    static func parse(_ json: JSONValue, clipStart: Double, seconds: Double, instructions: String) -> Parsed {
        var segments: [RecapOutput.Segment] = []
        var problem: String?
        for s in json["segments"]?.arrayValue ?? [] {
            let text = (s["text"]?.stringValue ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty { continue }
            if let p = AnswerCheck.problem(text, instructions: instructions) { problem = p; continue }
            let start = min(max(0, s["start"]?.doubleValue ?? 0), seconds)
            var end = min(max(start, s["end"]?.doubleValue ?? seconds), seconds)
            if end <= start { end = seconds }
            segments.append(.init(start: round3(clipStart + start), end: round3(clipStart + end), text: text))
        }
        var sounds: [String] = []
        for s in json["sounds"]?.arrayValue ?? [] {
            guard let name = s.stringValue?.trimmingCharacters(in: .whitespaces), !name.isEmpty, !sounds.contains(name),
                  AnswerCheck.problem(name, instructions: instructions) == nil else { continue }
            sounds.append(name)
        }
        let tone = (json["tone"]?.stringValue ?? "").trimmingCharacters(in: .whitespaces)
        let code = (json["language"]?.stringValue ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        let heard = RecapOutput.Heard(start: round3(clipStart), end: round3(clipStart + seconds), sounds: sounds,
                                      music: json["music"]?.boolValue ?? false, tone: segments.isEmpty ? "" : tone)
        return Parsed(segments: segments, heard: heard, language: code.isEmpty ? nil : code, problem: problem)
    }
}
