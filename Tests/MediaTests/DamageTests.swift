import Foundation
import Testing
@testable import Media

/// A file with a few damaged packets decodes past them, as the ffmpeg CLI does, instead of failing whole.
@Suite("Damaged packets")
struct DamageTests {
    /// narrated.mp4 with three 3 KB stretches of its media data overwritten (deterministic bytes).
    static func damaged(in tmp: TempDir) throws -> URL {
        var d = [UInt8](try Data(contentsOf: Samples.url("narrated.mp4")))
        var x: UInt32 = 12345
        for offset in [90_000, 150_000, 210_000] {
            for i in offset..<(offset + 3000) { x = x &* 1_103_515_245 &+ 12345; d[i] = UInt8(truncatingIfNeeded: x >> 16) }
        }
        let u = tmp.file("damaged.mp4")
        try Data(d).write(to: u)
        return u
    }

    @Test func audioAndFramesGoOnPastDamage() throws {
        let tmp = try TempDir()
        let url = try Self.damaged(in: tmp)
        // Audio: the whole 30 s, not a failure at the first bad packet.
        let audio = try #require(try AudioStream.readAll(url: url))
        #expect(abs(audio.duration - 30) < 1, "\(audio.duration) s")
        // The audio damage is counted too (the pipeline turns it into a warning), and an intact file has none.
        #expect(audio.damagedPackets > 0)
        #expect(try #require(try AudioStream.readAll(url: Samples.url("narrated.mp4"))).damagedPackets == 0)
        // Frames: one every 3 s across the whole file.
        let frames = try FrameSampler.sample(url: url, strategy: .every(seconds: 3))
        #expect(frames.frames.count == 10)
        #expect((frames.frames.last?.time ?? 0) >= 27)
        // The damage is counted where a user sees it (frames.json's stats), and an intact file reports none.
        let scenes = try FrameSampler.sample(url: url, strategy: .scenes())
        #expect((scenes.stats.damagedFrames ?? 0) > 0, "\(scenes.stats)")
        #expect(try FrameSampler.sample(url: Samples.url("narrated.mp4"), strategy: .scenes()).stats.damagedFrames == nil)
    }

    @Test func aDeclaredDurationFarBeyondTheStreamsIsNotTrusted() throws {
        // silent-video.mp4 (6 s) with its movie header claiming 4,294,967 s, as a damaged or forged file did.
        let tmp = try TempDir()
        var d = [UInt8](try Data(contentsOf: Samples.url("silent-video.mp4")))
        let mvhd = try #require((0..<(d.count - 4)).first { d[$0..<($0 + 4)] == [0x6D, 0x76, 0x68, 0x64] })
        #expect(d[mvhd + 4] == 0)  // version 0: 32-bit fields
        for (i, b) in [UInt8](arrayLiteral: 0xFF, 0xFF, 0xFF, 0xF0).enumerated() { d[mvhd + 20 + i] = b }
        let url = tmp.file("forged.mp4")
        try Data(d).write(to: url)
        let info = try MediaProbe.probe(url: url)
        #expect(abs((info.duration ?? 0) - 6) < 0.5, "\(String(describing: info.duration))")
    }
}
