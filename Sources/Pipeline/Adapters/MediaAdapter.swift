import Engine
import Foundation
import Media

/// The pipeline's media side over the Media module (FFmpeg libraries) and, for on-screen text,
/// the Engine module's Tesseract recognizer, run while the frame's pixels are at hand.
public struct FFmpegMedia: MediaPort {
    let ocr: TextRecognizer?

    /// `ocr`: the process's one recognizer (the local engine shares it), nil to read no on-screen text.
    /// The recognizer loads its model on the first frame, so a run with nothing to do never pays for it.
    public init(ocr: TextRecognizer?) { self.ocr = ocr }

    public var ocrModel: String? { ocr?.modelName }

    public func probe(_ url: URL) async throws -> RecapOutput.Probe {
        let info = try await Blocking.run { try MediaProbe.probe(url: url) }
        let v = info.video, a = info.audio
        guard v != nil || a != nil else {
            throw MediaError.notMedia(path: url.path, reason: "no audio or video stream")
        }
        var tags = info.tags
        if let t = info.title { tags["title"] = t }
        if let c = info.creationTime { tags["creation_time"] = c }
        return RecapOutput.Probe(
            container: info.container, durationSeconds: max(0, info.duration ?? v?.duration ?? a?.duration ?? 0),
            bitRate: info.bitRate.map(Int64.init), hasVideo: v != nil, hasAudio: a != nil,
            width: v?.video.map { $0.displayWidth > 0 ? $0.displayWidth : $0.width },
            height: v?.video.map { $0.displayHeight > 0 ? $0.displayHeight : $0.height },
            frameRate: v?.video?.frameRate, rotation: v?.video?.rotation,
            audioSampleRate: a?.audio?.sampleRate, audioChannels: a?.audio?.channels,
            tags: tags, chapters: info.chapters.map { .init(start: $0.start, end: $0.end, title: $0.title) })
    }

    /// Streams decoded audio through the chunker (cuts at quiet points, ≤ clipSeconds) and writes each clip
    /// as raw Float32 into `folder`: memory stays bounded by one clip whatever the file's length.
    public func extractAudio(_ url: URL, clipSeconds: Double, into folder: URL) async throws -> AudioSet {
        guard let stream = try AudioStream.open(url: url, sampleRate: 16_000, chunkDuration: 1.0) else { return AudioSet(clips: nil) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var state = AudioChunker.State(chunker: AudioChunker(maxClipDuration: clipSeconds, sampleRate: 16_000))
        var out: [AudioClipFile] = []
        func save(_ clip: AudioClip) throws {
            let file = folder.appendingPathComponent(String(format: "clip-%05d.f32", out.count))
            let data = clip.samples.withUnsafeBufferPointer { Data(buffer: $0) }
            try data.write(to: file)
            out.append(AudioClipFile(start: clip.startTime, duration: clip.duration, file: file.path))
        }
        var damaged = 0
        for try await chunk in stream {
            damaged = chunk.damagedPackets
            for clip in state.push(chunk) { try save(clip) }
        }
        if let last = state.finish() { try save(last) }
        let warning = "audio: \(damaged) damaged packet\(damaged == 1 ? " was" : "s were") skipped; the file is partly corrupt (a moment of sound may be missing there)"
        return AudioSet(clips: out, warnings: damaged > 0 ? [warning] : nil)
    }

    public func sampleFrames(_ url: URL, settings: PipelineSpec.Frames, probe: RecapOutput.Probe, into folder: URL) async throws -> FrameSet {
        try await FrameSampling.sample(url, settings: settings, probe: probe, into: folder, ocr: ocr)
    }
}
