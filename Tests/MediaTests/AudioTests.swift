import Foundation
import Testing
@testable import Media

@Suite("Audio")
struct AudioTests {
    @Test("decoded duration is within 20 ms of the stream's duration", arguments: ["narrated.mp4", "music.mp4", "audio-only.m4a", "portrait.mp4"])
    func duration(name: String) throws {
        let url = Samples.url(name)
        let stream = try #require(try AudioStream.open(url: url))
        let streamDuration = try #require(try MediaProbe.probe(url: url).audio?.duration)
        let all = try #require(try AudioStream.readAll(url: url))
        #expect(all.sampleRate == 16000)
        #expect(abs(all.startTime + all.duration - streamDuration) < 0.020, "\(name): \(all.duration) vs \(streamDuration)")
        #expect(stream.info.codec == "aac")
    }

    @Test("samples match ffmpeg's own 16 kHz mono downmix")
    func matchesFFmpeg() throws {
        let url = Samples.url("narrated.mp4")
        let ref = try run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-i", url.path, "-vn", "-ac", "1", "-ar", "16000", "-f", "f32le", "-"])
        let refSamples = ref.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let ours = try #require(try AudioStream.readAll(url: url)).samples
        #expect(abs(ours.count - refSamples.count) < 16000 / 50)
        var num = 0.0, den = 0.0
        for i in 0..<min(ours.count, refSamples.count) {
            num += Double(ours[i] - refSamples[i]) * Double(ours[i] - refSamples[i])
            den += Double(refSamples[i]) * Double(refSamples[i])
        }
        #expect(den > 0)
        #expect(num / den < 0.01, "relative error energy \(num / den)")
    }

    @Test("speech is where the ground truth says: quiet lead-in, loud sentences")
    func speechPlacement() throws {
        let truth = try Samples.truth("narrated")
        let all = try #require(try AudioStream.readAll(url: Samples.url("narrated.mp4")))
        func rms(_ a: Double, _ b: Double) -> Double {
            let s = all.samples[Int(a * 16000)..<Int(b * 16000)]
            return (s.reduce(0.0) { $0 + Double($1 * $1) } / Double(s.count)).squareRoot()
        }
        #expect(rms(0, 1.0) < 0.01)
        for s in truth["sentences"] as! [[String: Any]] {
            #expect(rms(s["start"] as! Double, s["end"] as! Double) > 0.03)
        }
    }

    @Test("no audio stream is nil, not an error")
    func noAudio() throws {
        #expect(try AudioStream.open(url: Samples.url("silent-video.mp4")) == nil)
        #expect(try AudioStream.readAll(url: Samples.url("vfr.mp4")) == nil)
    }

    @Test("the async sequence yields contiguous chunks of the requested size")
    func asyncChunks() async throws {
        let stream = try #require(try AudioStream.open(url: Samples.url("narrated.mp4"), chunkDuration: 0.5))
        var expectedStart = 0.0
        var total = 0
        var count = 0
        for try await chunk in stream {
            #expect(abs(chunk.startTime - expectedStart) < 1e-6)
            #expect(chunk.samples.count <= 8000)
            expectedStart = chunk.endTime
            total += chunk.samples.count
            count += 1
        }
        #expect(count == 60)
        #expect(abs(Double(total) / 16000 - 30) < 0.02)
    }

    @Test("iteration stops with CancellationError when the task is cancelled")
    func cancellation() async throws {
        let stream = try #require(try AudioStream.open(url: Samples.url("narrated.mp4"), chunkDuration: 0.1))
        let task = Task { () -> Int in
            var n = 0
            for try await _ in stream { n += 1; if n == 3 { withUnsafeCurrentTask { $0?.cancel() } } }
            return n
        }
        await #expect(throws: CancellationError.self) { _ = try await task.value }
    }

    @Test("the chunker cuts in pauses (between sentences or at a comma), never mid-word")
    func chunkerCutsInPauses() throws {
        let truth = try Samples.truth("narrated")
        let sentences = (truth["sentences"] as! [[String: Any]]).map { ($0["start"] as! Double, $0["end"] as! Double) }
        let all = try #require(try AudioStream.readAll(url: Samples.url("narrated.mp4")))
        func rms(_ a: Double, _ b: Double) -> Double {
            let s = all.samples[max(0, Int(a * 16000))..<min(all.samples.count, Int(b * 16000))]
            return (s.reduce(0.0) { $0 + Double($1 * $1) } / Double(max(1, s.count))).squareRoot()
        }
        let speechLevel = sentences.map { rms($0.0, $0.1) }.min()!
        let clips = AudioChunker(maxClipDuration: 6, searchWindow: 3).split(all.samples)
        #expect(clips.count >= 5)
        #expect(clips.allSatisfy { $0.duration <= 6 + 1e-9 })
        #expect(clips.reduce(0) { $0 + $1.samples.count } == all.samples.count)
        var inGaps = 0
        for (a, b) in zip(clips, clips.dropFirst()) {
            #expect(abs(a.endTime - b.startTime) < 1e-9)
            let cut = b.startTime
            #expect(rms(cut - 0.03, cut + 0.03) < speechLevel * 0.05, "cut at \(cut) is not in a pause")
            if !sentences.contains(where: { cut > $0.0 && cut < $0.1 }) { inGaps += 1 }
        }
        // Most cuts find a gap between sentences (one may fall at the comma pause of sentence 4).
        #expect(inGaps >= clips.count - 2)
        #expect(clips.map(\.index) == Array(0..<clips.count))
    }

    @Test("the chunker picks the quietest point near the limit in synthetic audio")
    func chunkerSynthetic() throws {
        // 1 s tone, silent from 0.70 to 0.75 s, tone again; limit 0.9 s, window 0.4 s.
        var s = [Float](repeating: 0, count: 16000)
        for i in 0..<16000 where !(11200..<12000).contains(i) { s[i] = 0.5 * sin(Float(i) * 0.3) }
        let clips = AudioChunker(maxClipDuration: 0.9, searchWindow: 0.4).split(s)
        #expect(clips.count == 2)
        #expect(abs(clips[0].duration - 0.725) < 0.02, "cut at \(clips[0].duration)")
    }

    @Test("chunking an AudioStream asynchronously gives the same clips as in memory")
    func chunkerAsync() async throws {
        let url = Samples.url("narrated.mp4")
        let stream = try #require(try AudioStream.open(url: url))
        let chunker = AudioChunker(maxClipDuration: 10, searchWindow: 3)
        var starts: [Double] = []
        for try await clip in chunker.clips(from: stream) { starts.append(clip.startTime) }
        let all = try #require(try AudioStream.readAll(url: url))
        #expect(starts == chunker.split(all.samples).map(\.startTime))
        #expect(starts.count >= 3)
    }

    @Test("WAV writer: header, sample count, atomic appearance")
    func wav() throws {
        let tmp = try TempDir()
        let url = tmp.file("out.wav")
        let w = try WAVWriter(url: url)
        try w.append([0, 0.5, -0.5, 1])
        #expect(!FileManager.default.fileExists(atPath: url.path))
        try w.finish()
        let d = try Data(contentsOf: url)
        #expect(d.count == 44 + 8)
        #expect(String(decoding: d[0..<4], as: UTF8.self) == "RIFF")
        #expect(d[24..<28].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } == 16000)
        #expect(d[40..<44].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } == 8)
        #expect(d[46..<48].withUnsafeBytes { $0.loadUnaligned(as: Int16.self) } == 16384)
        // ffprobe agrees.
        let out = try run("ffprobe", ["-v", "error", "-show_entries", "stream=sample_rate,channels,duration_ts", "-of", "csv=p=0", url.path])
        #expect(String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "16000,1,4")
        // Abandoned writers leave nothing behind.
        do { let w2 = try WAVWriter(url: tmp.file("abandoned.wav")); try w2.append([0.1]) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.url.path).sorted() == ["out.wav"])
    }
}
