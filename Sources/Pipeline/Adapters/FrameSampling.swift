import Engine
import Foundation
import Media

/// The frames stage over Media's sampler: the pipeline's strategy, at most `maxFrames` frames kept
/// (memory stays bounded however long the file), JPEGs written to the job's work folder, pixel facts,
/// OCR of each kept frame while it is at hand, and the contact sheet.
enum FrameSampling {
    static func sample(_ url: URL, settings: PipelineSpec.Frames, probe: RecapOutput.Probe, into folder: URL,
                       ocr: TextRecognizer?) async throws -> FrameSet {
        try await Blocking.run { try sampleBlocking(url, settings: settings, probe: probe, into: folder, ocr: ocr) }
    }

    static func strategy(_ s: PipelineSpec.Frames, duration: Double) -> SamplingStrategy {
        let spread = duration > 0 ? duration / Double(max(1, s.maxFrames)) : 0
        switch s.strategy {
        // Widen the interval on long media so the frame count stays near max_frames without decoding more.
        case .interval: return .every(seconds: max(s.interval, spread))
        case .count: return .count(s.maxFrames)
        case .keyframes: return .keyframes(minInterval: spread * 0.8)
        case .scenes: return .scenes(threshold: s.sceneThreshold, minSceneLength: s.minSceneSeconds)
        }
    }

    static func sampleBlocking(_ url: URL, settings: PipelineSpec.Frames, probe: RecapOutput.Probe, into folder: URL,
                               ocr: TextRecognizer?) throws -> FrameSet {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let cap = max(1, settings.maxFrames)
        var kept: [SampledFrame] = []
        let result = try FrameSampler.sample(url: url, strategy: strategy(settings, duration: probe.durationSeconds),
                                             options: FrameSamplerOptions(maxSide: settings.maxSide)) { frame in
            kept.append(frame)
            // Thin evenly once well past the cap: memory is a few dozen JPEGs whatever the length.
            if kept.count >= cap * 4 { kept = kept.enumerated().filter { $0.offset % 2 == 0 }.map(\.element) }
        }
        var frames = kept
        if frames.count > cap {
            let step = Double(frames.count) / Double(cap)
            frames = (0..<cap).map { frames[min(frames.count - 1, Int((Double($0) + 0.5) * step))] }
        }
        var samples: [FrameSample] = []
        for (i, f) in frames.enumerated() {
            let file = folder.appendingPathComponent(String(format: "frame-%04d.jpg", i))
            try f.jpeg.write(to: file)
            var text = ""
            if let ocr, let r = try? ocr.recognize(jpeg: f.jpeg) { text = r.text.trimmingCharacters(in: .whitespacesAndNewlines) }
            samples.append(FrameSample(f, file: file.path, ocrText: text))
        }
        var cuts = (result.scenes ?? []).map(\.start)
        if let ocr, samples.contains(where: { !$0.ocrText.isEmpty }) {
            let extra = try textChanges(url, settings: settings, duration: probe.durationSeconds, ocr: ocr,
                                        known: samples, into: folder, firstIndex: samples.count)
            samples = (samples + extra).sorted { $0.time < $1.time }
            if !cuts.isEmpty || !extra.isEmpty { cuts = Array(Set(cuts + extra.map(\.time))).sorted() }
        }
        var sheet: String?
        if !frames.isEmpty {
            let u = folder.appendingPathComponent("contact.jpg")
            try ContactSheet.write(frames, to: u)
            sheet = u.path
        }
        let transitions = (result.scenes ?? []).compactMap { s in s.transition.map { FrameSet.SceneStart(time: s.start, transition: $0.kind.rawValue) } }
        let damaged = result.stats.damagedFrames.map {
            ["frames: \($0) damaged video packet\($0 == 1 ? " was" : "s were") skipped; the file is partly corrupt (frames around the damage were still read)"]
        }
        return FrameSet(frames: samples, sceneCuts: cuts, contactSheet: sheet, transitions: transitions, warnings: damaged)
    }

    /// Slides change with too little picture change for the scene detector (new white text on the same dark
    /// background), so a talk's title slide could go unread. When the video shows text, a frame every few
    /// seconds whose picture changed is read too, and each text not seen before becomes an extra frame (and
    /// scene start). Bounded: at most `maxFrames` extra frames and twice that many OCR calls.
    static func textChanges(_ url: URL, settings: PipelineSpec.Frames, duration: Double, ocr: TextRecognizer,
                            known: [FrameSample], into folder: URL, firstIndex: Int) throws -> [FrameSample] {
        let interval = max(2.5, duration / 240)
        var texts = known.map { Set(Extractive.words($0.ocrText)) }.filter { !$0.isEmpty }
        var extra: [FrameSample] = []
        var reads = 0
        let cap = max(1, settings.maxFrames)
        _ = try FrameSampler.sample(url: url, strategy: .every(seconds: interval), options: FrameSamplerOptions(maxSide: settings.maxSide)) { f in
            guard extra.count < cap, reads < cap * 2 else { return }
            // Unchanged picture, or a frame next to one already read: nothing new to read.
            if let m = f.facts.motion, m < 0.006 { return }
            if known.contains(where: { abs($0.time - f.time) < interval / 2 }) { return }
            reads += 1
            guard let r = try? ocr.recognize(jpeg: f.jpeg) else { return }
            let text = r.text.trimmingCharacters(in: .whitespacesAndNewlines)
            let words = Set(Extractive.words(text))
            guard words.count >= 2, !texts.contains(where: { Double($0.intersection(words).count) / Double(max(1, $0.union(words).count)) > 0.6 }) else { return }
            texts.append(words)
            let file = folder.appendingPathComponent(String(format: "frame-%04d.jpg", firstIndex + extra.count))
            guard (try? f.jpeg.write(to: file)) != nil else { return }
            extra.append(FrameSample(f, file: file.path, ocrText: text))
        }
        return extra
    }
}

extension FrameSample {
    /// A sampled frame as the frames stage keeps it: its JPEG at `file`, its measured facts, its OCR text.
    init(_ f: SampledFrame, file: String, ocrText: String) {
        self.init(time: f.time, file: file, isKeyframe: f.isKeyframe,
                  facts: .init(brightness: f.facts.brightness, dominantColors: f.facts.dominantColors.prefix(3).map(\.name),
                               motion: f.facts.motion, sceneScore: f.facts.sceneChange, sharpness: f.facts.sharpness),
                  ocrText: ocrText)
    }
}
