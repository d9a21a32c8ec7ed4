import Foundation

/// Finds scene changes by scoring every decoded frame against the previous one on a 64x36 luma picture.
/// The score is the mean absolute difference (0...1); a cut is where it reaches `threshold` and the current
/// scene has lasted `minSceneLength` seconds. Cheap per frame: libswscale does the downscale from the
/// decoder's planes, and only 2,304 bytes per frame are compared.
struct SceneDetector {
    var threshold: Double
    var minSceneLength: Double

    struct Detection {
        var scenes: [SceneBoundary]
        /// One score per decoded frame: (time, score against the previous frame).
        var scores: [(Double, Double)]
        var duration: Double?
        var decodedFrames: Int
        var decodedNonKeyFrames: Int
        var packetsSent: Int
    }

    func detect(path: String) throws -> Detection {
        let reader = try VideoReader(path: path, keyframesOnly: false)
        let scaler = Scaler()
        let w = 64, h = 36
        var previous: [UInt8]? = nil
        var starts: [(Double, Double?)] = []
        var scores: [(Double, Double)] = []
        var lastTime = 0.0
        while let f = try reader.nextFrame() {
            let luma = try reader.lumaThumbnail(f, width: w, height: h, scaler: scaler)
            lastTime = f.time
            if let prev = previous {
                var sum = 0
                for i in 0..<luma.count { sum += abs(Int(luma[i]) - Int(prev[i])) }
                let score = Double(sum) / Double(luma.count) / 255
                scores.append((f.time, score))
                if score >= threshold, let open = starts.last, f.time - open.0 >= minSceneLength {
                    starts.append((f.time, score))
                }
            } else {
                starts.append((f.time, nil))
            }
            previous = luma
        }
        let end = max(reader.duration ?? 0, lastTime + reader.nominalFrameDuration)
        var scenes: [SceneBoundary] = []
        for (i, s) in starts.enumerated() {
            let e = i + 1 < starts.count ? starts[i + 1].0 : end
            scenes.append(SceneBoundary(index: i, start: s.0, end: e, score: s.1))
        }
        return Detection(scenes: scenes, scores: scores, duration: reader.duration,
                         decodedFrames: reader.decodedFrames, decodedNonKeyFrames: reader.decodedNonKeyFrames,
                         packetsSent: reader.packetsSent)
    }
}
