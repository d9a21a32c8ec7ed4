import Engine
import Foundation
import Media
import Store

/// Work is keyed by content, outputs by path. After a run, every discovered path whose content's job is done
/// but which has no `NAME.recap.json` of its own (a copy of a file already processed, or a file that was moved
/// or renamed) gets its outputs from the finished work, with no engine call: the job's outputs are copied to
/// the path's place, with `source.path` and the file names rewritten. Where the same content was seen at a
/// place under the same input root that is gone from disk (a move), the outputs left there are stale: they
/// are removed, and the host forgets the old place.
///
/// Works on either store: the job (its state and outputs) comes from `jobs`, shared by every host on
/// PostgreSQL; the places a content was seen come from `paths`, this host's stat cache, since only this host
/// can tell that a path on its disks is gone.
struct OutputPlacement {
    let jobs: any PipelineStore
    let paths: JobStore
    let out: OutputPaths

    enum Outcome: Equatable { case copied, moved }

    /// Places outputs for `file`, whose content's job is `jobID`; nil when the file has its outputs already,
    /// or the job is not done, or its outputs are gone (`recap jobs retry` remakes them).
    func place(_ file: Discovery.File, jobID: Int64) async throws -> Outcome? {
        let (folder, base) = try out.place(forRelativePath: file.relativePath)
        if FileManager.default.fileExists(atPath: folder.appendingPathComponent(base + ".recap.json").path) { return nil }
        let target = try out.file(forRelativePath: file.relativePath, suffix: ".recap.json")
        guard let job = try await jobs.job(jobID), job.state.hasOutputs, let result = job.result,
              let written = try? JSONValue.parse(result).arrayValue?.compactMap(\.stringValue),
              let (sourceJSON, output) = written.lazy.filter({ $0.hasSuffix(".recap.json") })
                .compactMap({ locate($0, fingerprint: job.fingerprint) }).first
        else { return nil }
        let placed = try copy(output, at: sourceJSON.deletingLastPathComponent(), to: file)

        // The same content's old places under this root that are gone: a move. Their outputs go.
        var moved = false
        for old in try paths.knownPaths(fingerprint: job.fingerprint) where old != file.url.path {
            guard !FileManager.default.fileExists(atPath: old), let rel = relativePath(of: old, like: file) else { continue }
            if let oldJSON = try? out.file(forRelativePath: rel, suffix: ".recap.json"), oldJSON != target,
               let stale = try? RecapOutput.decode(Data(contentsOf: oldJSON)), stale.source.fingerprint == job.fingerprint {
                let folder = oldJSON.deletingLastPathComponent()
                for name in [stale.files.srt, stale.files.vtt, stale.files.contactSheet].compactMap({ $0 }) {
                    remove(folder.appendingPathComponent(name))
                }
                remove(oldJSON)
                moved = true
            }
            try paths.forget(path: old)
            if job.path == old {
                _ = try await jobs.recordOutputs(jobID: jobID, path: file.url.path, result: JSONValue.array(placed.map { .string($0) }).data())
            }
        }
        return moved ? .moved : .copied
    }

    /// The finished job's `.recap.json`, read: where the job says it wrote it, or, when that path is not on this
    /// host (another worker wrote it, with the output folder mounted elsewhere), at the same place under this
    /// host's output folder: the longest tail of the path found there. Either way only a file describing the
    /// same content counts.
    func locate(_ path: String, fingerprint: String) -> (URL, RecapOutput)? {
        let parts = URL(fileURLWithPath: path).pathComponents.dropFirst()  // without "/"
        let candidates = [URL(fileURLWithPath: path)] + parts.indices.map { start in
            parts[start...].reduce(out.root) { $0.appendingPathComponent($1) }
        }
        for url in candidates {
            guard url == candidates[0] || (try? out.check(url)) != nil,
                  let data = try? Data(contentsOf: url), let output = try? RecapOutput.decode(data),
                  output.source.fingerprint == fingerprint else { continue }
            return (url, output)
        }
        return nil
    }

    /// Writes `output`'s files (found in `folder`) for `file`: companions first, the JSON last, since its
    /// presence means "this path is done".
    func copy(_ output: RecapOutput, at folder: URL, to file: Discovery.File) throws -> [String] {
        let (_, base) = try out.location(forRelativePath: file.relativePath)
        var placed: [String] = []
        func companion(_ name: String?, suffix: String) throws -> String? {
            guard let name, FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path) else { return nil }
            let dest = try out.file(forRelativePath: file.relativePath, suffix: suffix)
            try AtomicFile.copy(from: folder.appendingPathComponent(name), to: dest)
            placed.append(dest.path)
            return dest.lastPathComponent
        }
        var copy = output
        copy.source.path = file.relativePath
        copy.source.sizeBytes = file.size
        copy.files = .init(json: base + ".recap.json", srt: try companion(output.files.srt, suffix: ".srt"),
                           vtt: try companion(output.files.vtt, suffix: ".vtt"),
                           contactSheet: try companion(output.files.contactSheet, suffix: ".contact.jpg"))
        let json = try out.file(forRelativePath: file.relativePath, suffix: ".recap.json")
        try AtomicFile.write(try copy.encoded(), to: json)
        placed.append(json.path)
        return placed
    }

    /// `path`'s place in the output tree, when it lies under `file`'s input root (as `file`'s own does).
    func relativePath(of path: String, like file: Discovery.File) -> String? {
        let root = file.root.standardizedFileURL.path
        guard path.hasPrefix(root.hasSuffix("/") ? root : root + "/") else { return nil }
        let keepRootName = file.relativePath != OutputPaths.relativePath(of: file.url, under: file.root, keepRootName: false)
        return OutputPaths.relativePath(of: URL(fileURLWithPath: path), under: file.root, keepRootName: keepRootName)
    }

    func remove(_ url: URL) {
        if (try? out.check(url)) != nil { try? FileManager.default.removeItem(at: url) }
    }
}
