import Foundation
import Testing
@testable import Media

/// Every kind of bad input gives its own typed error naming the file, from probe, frames and audio alike.
@Suite("Bad inputs")
struct BadInputTests {
    enum Kind: String, CaseIterable, Sendable {
        case text, randomBytes, zeroBytes, truncated, truncatedNoIndex, directory, missing, fifo
    }

    /// Makes the bad input and says which error it must produce.
    static func make(_ kind: Kind, in tmp: TempDir) throws -> (URL, (MediaError) -> Bool) {
        switch kind {
        case .text:
            let u = tmp.file("notes.txt")
            try Data("Meeting notes\nRivers carry sand to the sea.\n".utf8).write(to: u)
            return (u, { if case .notMedia(let p, _) = $0 { p == u.path } else { false } })
        case .randomBytes:
            let u = tmp.file("random.mp4")
            var g = SystemRandomNumberGenerator()
            try Data((0..<200_000).map { _ in UInt8.random(in: 0...255, using: &g) }).write(to: u)
            return (u, { if case .notMedia(let p, _) = $0 { p == u.path } else { false } })
        case .zeroBytes:
            let u = tmp.file("empty.mp4")
            try Data().write(to: u)
            return (u, { $0 == .emptyFile(path: u.path) })
        case .truncated:
            // moov at the front (faststart), media cut off: the index promises bytes that are missing.
            let u = tmp.file("cut.mp4")
            let whole = try Data(contentsOf: Samples.url("narrated.mp4"))
            try whole.prefix(whole.count * 2 / 5).write(to: u)
            return (u, { if case .truncated(let p, let want, let have) = $0 { p == u.path && want > have } else { false } })
        case .truncatedNoIndex:
            // moov at the end, file cut before it: FFmpeg cannot find the index at all.
            let full = tmp.file("moov-at-end.mp4")
            try ffmpeg(["-f", "lavfi", "-i", "testsrc=s=160x90:d=2", "-c:v", "libx264", "-preset", "ultrafast", full.path])
            let u = tmp.file("cut-before-moov.mp4")
            let whole = try Data(contentsOf: full)
            try whole.prefix(whole.count / 2).write(to: u)
            return (u, { if case .notMedia(let p, let why) = $0 { p == u.path && why.contains("moov") } else { false } })
        case .directory:
            let u = tmp.file("folder.mp4")
            try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
            return (u, { $0 == .isDirectory(path: u.path) })
        case .missing:
            let u = tmp.file("nope.mp4")
            return (u, { $0 == .fileNotFound(path: u.path) })
        case .fifo:
            let u = tmp.file("pipe.mp4")
            #expect(mkfifo(u.path, 0o644) == 0)
            return (u, { $0 == .notRegularFile(path: u.path) })
        }
    }

    @Test("probe gives the typed error", arguments: Kind.allCases)
    func probe(kind: Kind) throws {
        let tmp = try TempDir()
        let (url, matches) = try Self.make(kind, in: tmp)
        do {
            _ = try MediaProbe.probe(url: url)
            Issue.record("\(kind): probe succeeded")
        } catch let e as MediaError {
            #expect(matches(e), "\(kind): got \(e)")
            #expect(e.description.contains(url.path))
        }
    }

    @Test("frames and audio give typed errors too", arguments: Kind.allCases.filter { $0 != .truncated })
    func samplersFail(kind: Kind) throws {
        let tmp = try TempDir()
        let (url, matches) = try Self.make(kind, in: tmp)
        #expect { _ = try FrameSampler.sample(url: url, strategy: .count(2)) } throws: { e in
            (e as? MediaError).map(matches) ?? false
        }
        #expect { _ = try AudioStream.open(url: url) } throws: { e in
            (e as? MediaError).map(matches) ?? false
        }
    }

    @Test("an unreadable file is reported as unreadable", .enabled(if: getuid() != 0, "root can read any file"))
    func unreadable() throws {
        let tmp = try TempDir()
        let u = tmp.file("locked.mp4")
        try FileManager.default.copyItem(at: Samples.url("music.mp4"), to: u)
        chmod(u.path, 0)
        #expect { _ = try MediaProbe.probe(url: u) } throws: { e in
            if case .unreadable(let p, _) = e as? MediaError { p == u.path } else { false }
        }
    }

    @Test("frames of an audio-only file: noVideoStream")
    func audioOnlyFrames() throws {
        let u = Samples.url("audio-only.m4a")
        #expect(throws: MediaError.noVideoStream(path: u.path)) {
            _ = try FrameSampler.sample(url: u, strategy: .count(1))
        }
    }
}
