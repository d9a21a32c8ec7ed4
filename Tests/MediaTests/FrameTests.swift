import Foundation
import Testing
@testable import Media

@Suite("Frames")
struct FrameTests {
    static let narrated = Samples.url("narrated.mp4")
    static let frameDuration = 1.0 / 25

    @Test("--every: each frame is the one on screen at the requested time, without decoding the whole file")
    func every() throws {
        let r = try FrameSampler.sample(url: Self.narrated, strategy: .every(seconds: 3))
        let targets = stride(from: 0.0, to: 30.0, by: 3.0).map { $0 }
        #expect(r.frames.count == targets.count)
        for (f, t) in zip(r.frames, targets) {
            #expect(f.time <= t + 1e-6 && t - f.time < Self.frameDuration, "target \(t), got \(f.time)")
        }
        #expect(r.stats.seeks > 0)
        #expect(r.stats.decodedFrames < 750 / 2, "decoded \(r.stats.decodedFrames) of 750 frames")
    }

    @Test("--count: evenly spaced midpoints, within one frame")
    func count() throws {
        let r = try FrameSampler.sample(url: Self.narrated, strategy: .count(5))
        let targets = [3.0, 9.0, 15.0, 21.0, 27.0]
        #expect(r.frames.map(\.time).count == 5)
        for (f, t) in zip(r.frames, targets) { #expect(abs(f.time - t) < Self.frameDuration, "target \(t), got \(f.time)") }
        #expect(r.frames.allSatisfy { $0.width == 320 && $0.height == 180 })
    }

    @Test("variable frame rate: every 0.25 s lands on the frame showing at that time")
    func vfr() throws {
        let url = Samples.url("vfr.mp4")
        let truth = (try Samples.truth("vfr"))["frameTimes"] as! [Double]
        let r = try FrameSampler.sample(url: url, strategy: .every(seconds: 0.25))
        var lastTime = -1.0
        for f in r.frames {
            #expect(truth.contains { abs($0 - f.time) < 1e-3 }, "\(f.time) is not a frame time")
            #expect(f.time > lastTime)
            lastTime = f.time
        }
        for t in stride(from: 0.0, to: 6.0, by: 0.25) {
            let expected = truth.filter { $0 <= t + 1e-6 }.max()!
            #expect(r.frames.contains { abs($0.time - expected) < 1e-3 }, "no frame for \(t) (want \(expected))")
        }
    }

    @Test("--keyframes decodes exactly the keyframes and no other frame")
    func keyframes() throws {
        let want = try ffprobeKeyframeTimes(Self.narrated)
        let r = try FrameSampler.sample(url: Self.narrated, strategy: .keyframes())
        #expect(r.stats.decodedNonKeyFrames == 0)
        #expect(r.stats.decodedFrames == want.count)
        #expect(r.stats.packetsSent == want.count)
        #expect(r.frames.count == want.count)
        for (f, t) in zip(r.frames, want) { #expect(abs(f.time - t) < 1e-3); #expect(f.isKeyframe) }
        let thinned = try FrameSampler.sample(url: Self.narrated, strategy: .keyframes(minInterval: 5))
        #expect(thinned.frames.count < want.count)
        for (a, b) in zip(thinned.frames, thinned.frames.dropFirst()) { #expect(b.time - a.time >= 5) }
    }

    @Test("--scenes: boundaries within 2 frames of the known cuts, one frame per scene")
    func scenes() throws {
        let truth = try Samples.truth("narrated")
        let cuts = (truth["sceneCuts"] as! [Any]).map { ($0 as! NSNumber).doubleValue }
        let r = try FrameSampler.sample(url: Self.narrated, strategy: .scenes())
        let scenes = try #require(r.scenes)
        #expect(scenes.count == cuts.count + 1)
        for (s, c) in zip(scenes.dropFirst(), cuts) {
            #expect(abs(s.start - c) <= 2 * Self.frameDuration + 1e-6, "cut \(c), found \(s.start)")
        }
        #expect(r.frames.count == scenes.count)
        for (f, s) in zip(r.frames, scenes) {
            #expect(f.time >= s.start && f.time < s.end)
            #expect(f.sceneIndex == s.index)
        }
        // The title card is blue, the third scene orange.
        #expect(r.frames.first?.facts.dominantColors.first?.name == "blue")
        #expect(r.frames[2].facts.dominantColors.first?.name == "orange")
    }

    @Test("a rotated phone clip comes out upright: 180x320 with the bright third at the top")
    func portraitUpright() throws {
        let r = try FrameSampler.sample(url: Samples.url("portrait.mp4"), strategy: .count(1))
        let f = try #require(r.frames.first)
        #expect(f.width == 180 && f.height == 320)
        let g = try f.grayscale()
        #expect(g.width == 180 && g.height == 320)
        func mean(_ rows: Range<Int>) -> Double {
            var s = 0; for y in rows { for x in 0..<g.width { s += Int(g.pixels[y * g.width + x]) } }
            return Double(s) / Double(rows.count * g.width)
        }
        #expect(mean(0..<80) > 180, "top should be white")
        #expect(mean(240..<320) < 80, "bottom should be dark")
    }

    @Test("frames are fitted into --max-side keeping the display aspect")
    func maxSide() throws {
        let r = try FrameSampler.sample(url: Self.narrated, strategy: .count(1), options: .init(maxSide: 160))
        #expect(r.frames.first?.width == 160 && r.frames.first?.height == 90)
    }

    @Test("pixel facts: brightness, contrast, motion against the previous frame")
    func pixelFacts() throws {
        let r = try FrameSampler.sample(url: Self.narrated, strategy: .count(4))
        #expect(r.frames[0].facts.motion == nil)
        #expect(r.frames.dropFirst().allSatisfy { ($0.facts.motion ?? 0) > 0.02 })
        // Flat blue title card vs the busy test pattern.
        #expect(r.frames[0].facts.contrast < r.frames[1].facts.contrast)
        #expect(r.frames.allSatisfy { (0...1).contains($0.facts.brightness) })
        let shares = r.frames[2].facts.dominantColors.map(\.share)
        #expect(shares == shares.sorted(by: >) && shares.reduce(0, +) <= 1.0001)
    }

    @Test("frames.json and the contact sheet are written")
    func outputs() throws {
        let tmp = try TempDir()
        let r = try FrameSampler.sample(url: Self.narrated, strategy: .scenes())
        let manifest = try FramesOutput.write(r, to: tmp.url)
        let data = try Data(contentsOf: tmp.file("frames.json"))
        let decoded = try JSONDecoder().decode(FramesManifest.self, from: data)
        #expect(decoded == manifest)
        #expect(decoded.scenes?.count == 4)
        for e in decoded.frames {
            let jpeg = try Data(contentsOf: tmp.file(e.file))
            #expect(jpeg.starts(with: [0xFF, 0xD8]))
            let img = try JPEG.decodeRGB(jpeg)
            #expect(img.width == e.width && img.height == e.height)
        }
        let sheetURL = tmp.file("sheet.jpg")
        try ContactSheet.write(r.frames, to: sheetURL, tileWidth: 200)
        let sheet = try JPEG.decodeRGB(try Data(contentsOf: sheetURL))
        #expect(sheet.width == 2 * 200 + 3 * 6)
        // The timestamp label: white glyph pixels on a black box in the first tile's lower-left corner.
        var white = 0
        for y in (sheet.height / 2 - 30)..<(sheet.height / 2) { for x in 6..<80 {
            let i = (y * sheet.width + x) * 3
            if sheet.pixels[i] > 200 && sheet.pixels[i + 1] > 200 && sheet.pixels[i + 2] > 200 { white += 1 }
        } }
        #expect(white > 20)
        #expect(ContactSheet.timestamp(3723.44) == "1:02:03.4")
    }

    @Test("the streaming form yields frames one by one and the same frames as the array form")
    func streaming() throws {
        var times: [Double] = []
        _ = try FrameSampler.sample(url: Self.narrated, strategy: .count(3), options: .init()) { times.append($0.time) }
        #expect(times == (try FrameSampler.sample(url: Self.narrated, strategy: .count(3))).frames.map(\.time))
    }
}

/// Odd pixel formats and sizes, made at test time: each samples cleanly with the expected geometry.
@Suite("Odd inputs")
struct OddInputTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var args: [String]
        var width: Int
        var height: Int
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "10bit.mp4", args: ["-f", "lavfi", "-i", "testsrc=s=320x180:d=1", "-pix_fmt", "yuv420p10le", "-c:v", "libx264", "-preset", "ultrafast"], width: 320, height: 180),
        Case(name: "yuv444.mp4", args: ["-f", "lavfi", "-i", "testsrc=s=320x180:d=1", "-pix_fmt", "yuv444p", "-c:v", "libx264", "-preset", "ultrafast"], width: 320, height: 180),
        Case(name: "rgb.mkv", args: ["-f", "lavfi", "-i", "testsrc=s=320x180:d=1", "-pix_fmt", "bgr0", "-c:v", "ffv1"], width: 320, height: 180),
        Case(name: "odd.mp4", args: ["-f", "lavfi", "-i", "testsrc=s=321x181:d=1", "-pix_fmt", "yuv444p", "-c:v", "libx264", "-preset", "ultrafast"], width: 321, height: 181),
        Case(name: "tiny.mkv", args: ["-f", "lavfi", "-i", "color=c=red:s=16x16:d=1", "-vf", "scale=1:1", "-c:v", "ffv1"], width: 1, height: 1),
        Case(name: "8k.mp4", args: ["-f", "lavfi", "-i", "color=c=green:s=7680x4320:d=0.2:r=5", "-c:v", "libx264", "-preset", "ultrafast"], width: 768, height: 432),
        Case(name: "anamorphic.mp4", args: ["-f", "lavfi", "-i", "testsrc=s=360x240:d=1", "-vf", "setsar=32/27", "-c:v", "libx264", "-preset", "ultrafast"], width: 427, height: 240),
        // A raw H.264 elementary stream has no timestamps at all (AV_NOPTS_VALUE everywhere).
        Case(name: "raw.h264", args: ["-f", "lavfi", "-i", "testsrc=s=320x180:d=2:r=25", "-c:v", "libx264", "-preset", "ultrafast", "-bsf:v", "h264_mp4toannexb", "-f", "h264"], width: 320, height: 180),
        // MPEG-TS starts its clock at 1.4 s; times must still start at 0.
        Case(name: "ts.ts", args: ["-f", "lavfi", "-i", "testsrc=s=320x180:d=2:r=25", "-c:v", "libx264", "-preset", "ultrafast"], width: 320, height: 180),
    ]

    @Test("samples cleanly", arguments: cases)
    func odd(_ c: Case) throws {
        let tmp = try TempDir()
        let url = tmp.file(c.name)
        try ffmpeg(c.args + [url.path])
        let knowsDuration = c.name != "raw.h264"
        if !knowsDuration {
            // No container, no duration: even spacing is impossible and says so; the other modes work.
            #expect { _ = try FrameSampler.sample(url: url, strategy: .count(2)) } throws: { e in
                if case .invalidRequest(let why) = e as? MediaError { why.contains("duration is unknown") } else { false }
            }
        }
        for strategy: SamplingStrategy in knowsDuration ? [.count(2), .keyframes(), .every(seconds: 0.5)] : [.keyframes(), .every(seconds: 0.5)] {
            let r = try FrameSampler.sample(url: url, strategy: strategy)
            #expect(!r.frames.isEmpty, "\(c.name) \(strategy)")
            for f in r.frames {
                #expect(f.width == c.width && f.height == c.height, "\(c.name): \(f.width)x\(f.height)")
                #expect(f.time >= 0 && f.time < 3, "\(c.name): time \(f.time)")
                #expect(f.jpeg.starts(with: [0xFF, 0xD8]))
            }
        }
        guard knowsDuration else { return }
        let count = try FrameSampler.sample(url: url, strategy: .count(2))
        if c.name == "tiny.mkv" { #expect(count.frames[0].facts.dominantColors.first?.name == "red") }
        if c.name == "ts.ts" { #expect(abs(count.frames[0].time - 0.5) < 0.05) }
    }
}
