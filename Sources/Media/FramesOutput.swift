import Foundation

/// `frames.json`: what `recap frames` wrote, for people and for the pipeline.
public struct FramesManifest: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        /// File name inside the output folder.
        public var file: String
        /// Presentation time in seconds.
        public var time: Double
        public var keyframe: Bool
        public var width: Int
        public var height: Int
        public var scene: Int?
        public var facts: PixelFacts
    }
    public var source: String
    public var strategy: String
    public var duration: Double?
    public var frames: [Entry]
    /// Only for `--scenes`.
    public var scenes: [SceneBoundary]?
    public var stats: SamplingStats
}

/// Writes sampled frames and frames.json into a folder. File names are generated here (frame-0001.jpg...),
/// never taken from input paths, so nothing can escape the folder. Every file is written atomically.
public enum FramesOutput {
    @discardableResult
    public static func write(_ sampling: FrameSampling, to directory: URL) throws -> FramesManifest {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw MediaError.writeFailed(path: directory.path, reason: error.localizedDescription)
        }
        var entries: [FramesManifest.Entry] = []
        for (i, f) in sampling.frames.enumerated() {
            let name = String(format: "frame-%04d.jpg", i + 1)
            try AtomicFile.write(f.jpeg, to: directory.appendingPathComponent(name))
            entries.append(.init(file: name, time: (f.time * 1_000_000).rounded() / 1_000_000, keyframe: f.isKeyframe,
                                 width: f.width, height: f.height, scene: f.sceneIndex, facts: f.facts))
        }
        let manifest = FramesManifest(source: sampling.path, strategy: describe(sampling.strategy),
                                      duration: sampling.duration, frames: entries, scenes: sampling.scenes,
                                      stats: sampling.stats)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try enc.encode(manifest) } catch {
            throw MediaError.writeFailed(path: directory.appendingPathComponent("frames.json").path, reason: "\(error)")
        }
        try AtomicFile.write(data, to: directory.appendingPathComponent("frames.json"))
        return manifest
    }

    public static func describe(_ s: SamplingStrategy) -> String {
        switch s {
        case .every(let sec): return "every \(sec) s"
        case .count(let n): return "count \(n)"
        case .times(let t): return "times \(t.count)"
        case .keyframes(let min): return min > 0 ? "keyframes (at least \(min) s apart)" : "keyframes"
        case .scenes(let t, let m): return "scenes (threshold \(t), min scene \(m) s)"
        }
    }
}
