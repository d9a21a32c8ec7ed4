import Engine
import Foundation
import Media
@testable import Pipeline
import Store
import Web

/// The repository root, found from this file's path (tests run from anywhere).
let repoRoot: URL = {
    var u = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { u.deleteLastPathComponent() }
    return u
}()

/// A real output folder, written with the Store API and the pipeline's own output types (no engine run, so
/// it takes a second): `narrated.mp4` with its real contact sheet, WebVTT/SRT made by `Subtitles` from the
/// sample's sentence times, and its search entries; a job with a hostile title; a failed and a pending job;
/// and two planted escapes: an output that is a symlink out of `--out`, and a media file swapped for a
/// symlink to a secret.
struct Fixture {
    let root: URL
    let out: URL
    let store: JobStore
    let archive: Archive
    /// The narrated sample's job and its media file (outside `--out`, as with `recap run`).
    let narratedID: Int64
    let narratedMedia: URL
    let hostileID: Int64
    let failedID: Int64
    let pendingID: Int64
    /// A done job whose recorded `.vtt` is a symlink to `secret`, outside the output folder.
    let escapingOutputID: Int64
    /// A job whose media file was replaced by a symlink to `secret`.
    let swappedMediaID: Int64
    let secret: URL
    static let secretText = "TOP-SECRET-\(UUID().uuidString)"
    static let hostileTitle = "\"><script>alert('title')</script><b>bold</b> & co"

    /// The narrated sample's sentences (samples/narrated.json), as transcript segments.
    static func sentences() throws -> [RecapOutput.Segment] {
        let meta = try JSONValue.parse(Data(contentsOf: repoRoot.appendingPathComponent("samples/narrated.json")))
        guard case .array(let list)? = meta["sentences"] else { throw FixtureError("samples/narrated.json has no sentences") }
        return list.map {
            RecapOutput.Segment(start: $0["start"]?.doubleValue ?? 0, end: $0["end"]?.doubleValue ?? 0,
                                text: $0["text"]?.stringValue ?? "", speaker: "Speaker 1")
        }
    }

    init() throws {
        let fm = FileManager.default
        root = fm.temporaryDirectory.appendingPathComponent("recap-web-test-\(UUID().uuidString)", isDirectory: true)
        out = root.appendingPathComponent("out", isDirectory: true)
        let input = root.appendingPathComponent("input/talks", isDirectory: true)
        try fm.createDirectory(at: input, withIntermediateDirectories: true)
        try fm.createDirectory(at: out.appendingPathComponent("talks"), withIntermediateDirectories: true)
        secret = root.appendingPathComponent("secret.txt")
        try Data(Self.secretText.utf8).write(to: secret)
        store = try JobStore(url: out.appendingPathComponent(".recap/store.sqlite"))
        let identity = JobIdentity(pipeline: "summarize", pipelineVersion: "1", engine: "web-test")

        func media(_ sample: String, as name: String) throws -> URL {
            let u = input.appendingPathComponent(name)
            try fm.copyItem(at: repoRoot.appendingPathComponent("samples/\(sample)"), to: u)
            return u
        }
        func enqueue(_ u: URL) throws -> Int64 {
            try store.enqueue(EnqueueRequest(fingerprint: Fingerprint.of(path: u.path), path: u.path, identity: identity)).jobID
        }
        func claim(_ id: Int64) throws -> ClaimedJob {
            guard let c = try store.claim(jobID: id, owner: "web-test") else { throw FixtureError("could not claim job \(id)") }
            return c
        }
        let store = self.store, out = self.out
        /// Writes the outputs as WriteStage names them and completes the job with their paths.
        func finish(_ id: Int64, _ mediaURL: URL, base: String, title: String, tags: [String],
                    segments: [RecapOutput.Segment], sheet: Bool) throws {
            let c = try claim(id)
            let folder = out.appendingPathComponent("talks")
            var files = RecapOutput.Files(json: base + ".recap.json")
            var written: [URL] = []
            if !segments.isEmpty {
                let vtt = folder.appendingPathComponent(base + ".vtt"), srt = folder.appendingPathComponent(base + ".srt")
                try Data(Subtitles.vtt(segments).utf8).write(to: vtt)
                try Data(Subtitles.srt(segments).utf8).write(to: srt)
                files.vtt = vtt.lastPathComponent; files.srt = srt.lastPathComponent
                written += [srt, vtt]
            }
            if sheet {
                let frames = try FrameSampler.sample(url: mediaURL, strategy: .count(4)).frames
                let jpg = folder.appendingPathComponent(base + ".contact.jpg")
                try ContactSheet.write(frames, to: jpg)
                files.contactSheet = jpg.lastPathComponent
                written.append(jpg)
            }
            let duration = try MediaProbe.probe(url: mediaURL).duration ?? 0
            let output = RecapOutput(
                source: .init(path: "talks/" + mediaURL.lastPathComponent, fingerprint: c.job.fingerprint,
                              sizeBytes: Int64(try Data(contentsOf: mediaURL).count),
                              probe: .init(container: "mov,mp4", durationSeconds: duration, hasVideo: true, hasAudio: true,
                                           width: 320, height: 180)),
                pipeline: .init(name: "summarize", version: 1),
                engine: .init(backend: "test", identity: "web-test", models: [:], capabilities: []),
                transcript: segments.isEmpty ? nil : .init(language: "en", model: "test", segments: segments, source: "whisper"),
                scenes: [
                    .init(index: 0, start: 0, end: 8, frameTime: 4, description: "A blue title card reading RIVER DELTAS",
                          descriptionSource: "measured", ocrText: "RIVER DELTAS", facts: nil),
                    .init(index: 1, start: 8, end: 15, frameTime: 11, description: "A colour test pattern",
                          descriptionSource: "measured", ocrText: "", facts: nil, transition: "cut"),
                ],
                extract: [],
                results: .object([
                    "title": .string(title), "one_line": .string("A short lecture on how river deltas form."),
                    "tags": .array(tags.map(JSONValue.string)),
                    "chapters": .array([
                        .object(["start": .number(0), "title": .string("Welcome")]),
                        .object(["start": .number(5.481), "title": .string("How a delta forms")]),
                    ]),
                ]),
                grounding: .init(hasSpeech: !segments.isEmpty, hasOnScreenText: true, note: ""),
                provenance: [:], files: files, timings: [:], warnings: [], createdAt: "2026-01-01T00:00:00Z")
            let json = folder.appendingPathComponent(base + ".recap.json")
            try output.encoded().write(to: json)
            written.append(json)
            try store.replaceSearchEntries(c.lease, path: mediaURL.path, entries: segments.map {
                SearchEntry(kind: .transcript, start: $0.start, end: $0.end, text: $0.text)
            })
            try store.complete(c.lease, result: JSONValue.array(written.map { .string($0.path) }).data())
        }

        // 1. The narrated sample, complete.
        narratedMedia = try media("narrated.mp4", as: "narrated.mp4")
        narratedID = try enqueue(narratedMedia)
        try finish(narratedID, narratedMedia, base: "narrated", title: "River Deltas Lecture",
                   tags: ["geography", "rivers"], segments: try Self.sentences(), sheet: true)

        // 2. Hostile text everywhere the pages show it.
        let hostileMedia = try media("silent-video.mp4", as: "hostile.mp4")
        hostileID = try enqueue(hostileMedia)
        try finish(hostileID, hostileMedia, base: "hostile", title: Self.hostileTitle, tags: ["<img src=x onerror=alert(1)>"],
                   segments: [.init(start: 1, end: 2, text: "</li><script>alert('line')</script>", speaker: "<i>Eve</i>")],
                   sheet: false)

        // 3. Failed for good, with a reason; 4. not started.
        failedID = try enqueue(try media("music.mp4", as: "broken.mp4"))
        _ = try store.fail(try claim(failedID).lease, stage: .transcribe, message: "decoder gave up <at> 0:03", retryable: false)
        pendingID = try enqueue(try media("portrait.mp4", as: "later.mp4"))

        // 5. A done job whose .vtt in the output folder is a symlink to a file outside it.
        let vfr = try media("vfr.mp4", as: "linked.mp4")
        escapingOutputID = try enqueue(vfr)
        try finish(escapingOutputID, vfr, base: "linked", title: "Linked", tags: [],
                   segments: [.init(start: 0, end: 1, text: "hello")], sheet: false)
        let linkedVTT = out.appendingPathComponent("talks/linked.vtt")
        try fm.removeItem(at: linkedVTT)
        try fm.createSymbolicLink(at: linkedVTT, withDestinationURL: secret)

        // 6. A done job whose media file was swapped for a symlink to the secret.
        let swapped = try media("audio-only.m4a", as: "swapped.m4a")
        swappedMediaID = try enqueue(swapped)
        try finish(swappedMediaID, swapped, base: "swapped", title: "Swapped", tags: [], segments: [], sheet: false)
        try fm.removeItem(at: swapped)
        try fm.createSymbolicLink(at: swapped, withDestinationURL: secret)

        archive = try Archive(out: out, store: store)
    }

    func cleanUp() {
        try? store.close()
        try? FileManager.default.removeItem(at: root)
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
