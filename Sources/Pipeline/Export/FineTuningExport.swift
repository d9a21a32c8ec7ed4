import Engine
import Foundation
import Media
import Store

/// `recap export --format sft`: the jobs a person corrected, as chat-format fine-tuning examples.
///
/// One JSON line per corrected job, in the message shape of Hugging Face chat templates for multimodal
/// models such as Gemma 3n (`{"type": "image", "image": PATH}`, `{"type": "audio", "audio": PATH}`,
/// `{"type": "text", "text": ...}`), which TRL's SFT trainer and the Gemma 3n fine-tuning notebooks read:
/// - user: the frames shown for each scene (JPEG), the audio as 16 kHz mono WAV clips of at most 30 s
///   (Gemma 3n's limit per clip), the transcript and on-screen text, and the instruction;
/// - assistant: the result JSON with the person's corrections applied (the model's own answer stays in
///   the job store and the `.recap.json`; only the reviewed version is a training target).
/// Media paths are relative to the JSONL file, under `NAME.assets/job-ID/`.
public struct FineTuningExport {
    public let store: JobStore
    public var maxFrames = 8
    public var maxAudioClips = 20

    public init(store: JobStore) { self.store = store }

    public struct Report: Sendable, Equatable {
        public var examples = 0
        public var images = 0
        public var audioClips = 0
        public var skipped: [String] = []
    }

    public func write(to file: URL) throws -> Report {
        let assetsName = file.deletingPathExtension().lastPathComponent + ".assets"
        let assets = file.deletingLastPathComponent().appendingPathComponent(assetsName)
        var report = Report()
        var lines: [String] = []
        for id in try store.correctedJobIDs() {
            do {
                let (line, images, clips) = try example(jobID: id, assets: assets, assetsName: assetsName)
                lines.append(line)
                report.examples += 1; report.images += images; report.audioClips += clips
            } catch {
                report.skipped.append("job \(id): \(error)")
            }
        }
        try AtomicFile.write(Data((lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")).utf8), to: file)
        return report
    }

    func example(jobID: Int64, assets: URL, assetsName: String) throws -> (String, Int, Int) {
        guard let job = try store.job(jobID), let resultData = job.result,
              case .array(let written) = try JSONValue.parse(resultData),
              let jsonPath = written.compactMap(\.stringValue).first(where: { $0.hasSuffix(".recap.json") }) else {
            throw ExportError.notFinished
        }
        let output = try RecapOutput.decode(Data(contentsOf: URL(fileURLWithPath: jsonPath)))
        var target = output.results
        let corrections = try store.corrections(jobID: jobID)
        for c in corrections { target = Self.setting(target, path: c.field.split(separator: "/").map(String.init), to: .string(c.value)) }

        let folder = assets.appendingPathComponent("job-\(jobID)")
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let media = URL(fileURLWithPath: job.path)
        var parts: [JSONValue] = []
        // Frames: the one shown for each scene, spread over the video when there are more scenes than maxFrames.
        let times = Self.spread(output.scenes.map(\.frameTime), keep: maxFrames)
        var images = 0
        if output.source.probe.hasVideo, !times.isEmpty {
            _ = try FrameSampler.sample(url: media, strategy: .times(times), options: FrameSamplerOptions(maxSide: 768)) { frame in
                images += 1
                let name = String(format: "frame-%02d.jpg", images)
                try frame.jpeg.write(to: folder.appendingPathComponent(name))
                parts.append(.object(["type": .string("image"), "image": .string("\(assetsName)/job-\(jobID)/\(name)")]))
            }
        }
        var clips = 0
        if output.source.probe.hasAudio, let stream = try AudioStream.open(url: media, sampleRate: 16000, chunkDuration: 30) {
            try stream.forEachChunk { chunk in
                guard clips < maxAudioClips else { return }
                clips += 1
                let name = String(format: "audio-%02d.wav", clips)
                let wav = try WAVWriter(url: folder.appendingPathComponent(name), sampleRate: 16000)
                try wav.append(chunk.samples)
                try wav.finish()
                parts.append(.object(["type": .string("audio"), "audio": .string("\(assetsName)/job-\(jobID)/\(name)")]))
            }
        }
        parts.append(.object(["type": .string("text"), "text": .string(Self.instruction(output))]))
        let record: JSONValue = .object([
            "id": .string("job-\(jobID)"),
            "source": .string(job.path),
            "corrected": .array(corrections.map { .string($0.field) }),
            "messages": .array([
                .object(["role": .string("system"), "content": .array([.object(["type": .string("text"), "text": .string(Self.system)])])]),
                .object(["role": .string("user"), "content": .array(parts)]),
                .object(["role": .string("assistant"), "content": .array([.object(["type": .string("text"), "text": .string(target.jsonString())])])]),
            ]),
        ])
        return (record.jsonString(), images, clips)
    }

    static let system = "You watch and listen to a video and answer with JSON only. Use only facts from the video."

    static func instruction(_ o: RecapOutput) -> String {
        var s = "Video: \(o.source.path), \(Int(o.source.probe.durationSeconds.rounded())) s."
        if let t = o.transcript, !t.segments.isEmpty { s += "\nTranscript:\n" + t.segments.map(\.text).joined(separator: " ") }
        let ocr = o.scenes.map(\.ocrText).filter { !$0.isEmpty }
        if !ocr.isEmpty { s += "\nOn-screen text:\n" + ocr.joined(separator: "\n") }
        let keys: [String]
        if case .object(let fields) = o.results { keys = fields.keys.sorted() } else { keys = [] }
        s += "\nAnswer with a JSON object with the fields: \(keys.joined(separator: ", "))."
        return s
    }

    /// `value` with the string at `path` (object keys, array indexes) replaced; missing objects are created.
    static func setting(_ value: JSONValue, path: [String], to new: JSONValue) -> JSONValue {
        guard let head = path.first else { return new }
        let rest = Array(path.dropFirst())
        switch value {
        case .array(var items):
            guard let i = Int(head), items.indices.contains(i) else { return value }
            items[i] = setting(items[i], path: rest, to: new)
            return .array(items)
        case .object(var fields):
            fields[head] = setting(fields[head] ?? .null, path: rest, to: new)
            return .object(fields)
        default:
            return rest.isEmpty ? .object([head: new]) : .object([head: setting(.null, path: rest, to: new)])
        }
    }

    /// At most `keep` of `times`, evenly spread, ascending.
    static func spread(_ times: [Double], keep: Int) -> [Double] {
        let sorted = times.sorted()
        guard sorted.count > keep, keep > 0 else { return sorted }
        return (0..<keep).map { sorted[$0 * sorted.count / keep] }
    }

    enum ExportError: Error, CustomStringConvertible {
        case notFinished
        var description: String { "it has no finished output (.recap.json) to correct" }
    }
}
