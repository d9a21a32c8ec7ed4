import Foundation
import Testing
@testable import Store
#if canImport(Glibc)
import Glibc
#endif

/// Incremental rescans on real files: stat first, fingerprint only what may have changed.
@Suite struct RescanTests {
    func makeTree(_ dir: TempDir, count: Int) throws -> [String] {
        try FileManager.default.createDirectory(atPath: dir.file("media"), withIntermediateDirectories: true)
        return try (0..<count).map { i in
            let path = dir.file("media/clip-\(i).mp4")
            try Data((0..<(1000 + i * 97)).map { UInt8(truncatingIfNeeded: $0 &* (i + 7)) }).write(to: URL(fileURLWithPath: path))
            return path
        }
    }

    func setMtime(_ path: String, sec: Int, nsec: Int) {
        var times = [timespec(tv_sec: sec, tv_nsec: nsec), timespec(tv_sec: sec, tv_nsec: nsec)]
        _ = utimensat(AT_FDCWD, path, &times, 0)
    }

    @Test func unchangedTouchedChangedMovedAndNew() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let store = try makeStore(dir)
        var paths = try makeTree(dir, count: 20)

        let first = try store.rescan(paths: paths, identity: testIdentity)
        #expect(first.count(.new) == 20)
        #expect(first.enqueued == 20)
        #expect(first.fingerprinted == 20)
        #expect(first.pendingJobIDs.count == 20)

        let second = try store.rescan(paths: paths, identity: testIdentity)
        #expect(second.count(.unchanged) == 20)
        #expect(second.enqueued == 0)
        #expect(second.fingerprinted == 0)
        #expect(second.items.map(\.jobID) == first.items.map(\.jobID))

        // touch: new mtime, same bytes → read, recognised, no new work.
        setMtime(paths[0], sec: 1_700_000_000, nsec: 5)
        // edit: new bytes → new fingerprint → a new job.
        let handle = try #require(FileHandle(forWritingAtPath: paths[1]))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([1, 2, 3]))
        try handle.close()
        // move: new path, known content → its existing job, which follows the file.
        let moved = dir.file("media/renamed.mp4")
        try FileManager.default.moveItem(atPath: paths[2], toPath: moved)
        paths[2] = moved

        let third = try store.rescan(paths: paths, identity: testIdentity)
        #expect(third.items[0].change == .touched)
        #expect(third.items[0].jobID == first.items[0].jobID)
        #expect(third.items[1].change == .changed)
        #expect(third.items[1].created)
        #expect(third.items[1].jobID != first.items[1].jobID)
        #expect(third.items[2].change == .moved)
        #expect(third.items[2].jobID == first.items[2].jobID)
        #expect(try store.job(first.items[2].jobID!)?.path == moved)
        #expect(third.count(.unchanged) == 17)
        #expect(third.enqueued == 1)
        #expect(third.fingerprinted == 3)

        // A new pipeline version makes new work for every file, on purpose, without re-reading them.
        var v2 = testIdentity
        v2.pipelineVersion = "2"
        let fourth = try store.rescan(paths: paths, identity: v2)
        #expect(fourth.enqueued == 20)
        #expect(fourth.fingerprinted == 0)
        #expect(fourth.count(.unchanged) == 20)
    }

    @Test func anUnchangedStatMeansTheFileIsNotRead() throws {
        // The documented trade-off, made visible: rewrite a file in place with the same size and
        // restore its mtime; the rescan trusts (device, inode, size, mtime) and does not read it.
        let dir = try TempDir(); defer { dir.remove() }
        let store = try makeStore(dir)
        let paths = try makeTree(dir, count: 2)
        let first = try store.rescan(paths: paths, identity: testIdentity)
        var st = stat()
        stat(paths[0], &st)
        let fd = open(paths[0], O_WRONLY)
        _ = [UInt8](repeating: 0xAB, count: 100).withUnsafeBytes { pwrite(fd, $0.baseAddress, 100, 0) }
        close(fd)
        setMtime(paths[0], sec: st.st_mtim.tv_sec, nsec: st.st_mtim.tv_nsec)
        let second = try store.rescan(paths: paths, identity: testIdentity)
        #expect(second.items[0].change == .unchanged)
        #expect(second.items[0].fingerprint == first.items[0].fingerprint)
        #expect(second.fingerprinted == 0)
        #expect(try Fingerprint.of(path: paths[0]) != first.items[0].fingerprint)  // the content did change
    }

    @Test func unreadableFilesAreReportedAndDoNotStopTheOthers() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let store = try makeStore(dir)
        var paths = try makeTree(dir, count: 3)
        paths.insert(dir.file("media/gone.mp4"), at: 1)
        try FileManager.default.createDirectory(atPath: dir.file("media/folder.mp4"), withIntermediateDirectories: true)
        paths.append(dir.file("media/folder.mp4"))
        let report = try store.rescan(paths: paths, identity: testIdentity)
        #expect(report.items.map(\.change) == [.new, .unreadable, .new, .new, .unreadable])
        #expect(report.items[1].error != nil)
        #expect(report.enqueued == 3)
    }

    @Test func identicalCopiesShareOneJobAndDeadJobsStayDead() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let store = try makeStore(dir)
        let paths = try makeTree(dir, count: 2)
        let copy = dir.file("media/copy.mp4")
        try FileManager.default.copyItem(atPath: paths[0], toPath: copy)
        let report = try store.rescan(paths: paths + [copy], identity: testIdentity)
        #expect(report.items[2].jobID == report.items[0].jobID)
        #expect(report.pendingJobIDs.count == 2)

        let c = try #require(try store.claim(jobID: report.items[1].jobID!, owner: "w"))
        try store.fail(c.lease, stage: .probe, message: "bad", retryable: false)
        let again = try store.rescan(paths: paths, identity: testIdentity)
        #expect(again.items[1].state == .dead)
        #expect(!again.items[1].needsWork)
    }
}
