import Foundation
import Testing
@testable import Media

@Suite("Probe")
struct ProbeTests {
    @Test("narrated.mp4: container, streams, tags and chapters match the ground truth")
    func narrated() throws {
        let truth = try Samples.truth("narrated")
        let info = try MediaProbe.probe(url: Samples.url("narrated.mp4"))
        #expect(info.container.contains("mp4"))
        #expect(abs(try #require(info.duration) - (truth["duration"] as! Double)) < 0.05)
        #expect((info.bitRate ?? 0) > 10_000)
        #expect(info.title == truth["title"] as? String)
        #expect(info.creationTime == truth["creationTime"] as? String)
        let v = try #require(info.video?.video)
        #expect(info.video?.codec == "h264")
        #expect(v.width == 320 && v.height == 180)
        #expect(v.displayWidth == 320 && v.displayHeight == 180)
        #expect(abs(try #require(v.frameRate) - 25) < 0.01)
        #expect(v.rotation == 0)
        #expect(v.sampleAspectRatio == "1:1")
        #expect(v.pixelFormat == "yuv420p")
        #expect(v.bitDepth == 8)
        let a = try #require(info.audio?.audio)
        #expect(info.audio?.codec == "aac")
        #expect(a.sampleRate == 44100)
        #expect(a.channels == 2)
        #expect(a.channelLayout == "stereo")
        let chapters = truth["chapters"] as! [[String: Any]]
        #expect(info.chapters.count == chapters.count)
        for (got, want) in zip(info.chapters, chapters) {
            #expect(got.title == want["title"] as? String)
            #expect(abs(got.start - (want["start"] as! Double)) < 0.01)
            #expect(abs(got.end - (want["end"] as! Double)) < 0.01)
        }
    }

    @Test("portrait.mp4: stored 320x180, rotation 90, displayed 180x320")
    func portrait() throws {
        let info = try MediaProbe.probe(url: Samples.url("portrait.mp4"))
        let v = try #require(info.video?.video)
        #expect(v.width == 320 && v.height == 180)
        #expect(v.rotation == 90)
        #expect(v.displayWidth == 180 && v.displayHeight == 320)
        #expect(v.mirrored == false)
    }

    @Test("silent-video.mp4 has no audio stream; audio-only.m4a has no video stream")
    func streamPresence() throws {
        let silent = try MediaProbe.probe(url: Samples.url("silent-video.mp4"))
        #expect(silent.audio == nil)
        #expect(silent.video != nil)
        let audioOnly = try MediaProbe.probe(url: Samples.url("audio-only.m4a"))
        #expect(audioOnly.video == nil)
        #expect(audioOnly.audio?.audio?.sampleRate == 22050)
        #expect(audioOnly.audio?.audio?.channelLayout == "mono")
        #expect(audioOnly.title == "River Sentence")
    }

    @Test("vfr.mp4: the mean frame rate reflects 10 fps then 30 fps")
    func vfr() throws {
        let truth = try Samples.truth("vfr")
        let frames = (truth["frameTimes"] as! [Double]).count
        let info = try MediaProbe.probe(url: Samples.url("vfr.mp4"))
        let v = try #require(info.video?.video)
        let duration = try #require(info.duration)
        #expect(abs(try #require(v.frameRate) - Double(frames) / duration) < 0.5)
        #expect(v.frameCount == frames)
    }

    @Test("anamorphic video: sample aspect ratio widens the display size")
    func anamorphic() throws {
        let tmp = try TempDir()
        let f = tmp.file("anamorphic.mp4")
        try ffmpeg(["-f", "lavfi", "-i", "testsrc=s=360x240:d=1", "-vf", "setsar=32/27", "-c:v", "libx264", "-preset", "ultrafast", f.path])
        let v = try #require(try MediaProbe.probe(url: f).video?.video)
        #expect(v.sampleAspectRatio == "32:27")
        #expect(v.displayWidth == 427 && v.displayHeight == 240)
    }

    @Test("ProbeInfo round-trips through JSON")
    func codable() throws {
        let info = try MediaProbe.probe(url: Samples.url("narrated.mp4"))
        let data = try JSONEncoder().encode(info)
        #expect(try JSONDecoder().decode(ProbeInfo.self, from: data) == info)
    }
}
