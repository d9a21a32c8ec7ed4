import Foundation

/// Finds pipelines by name (`summarize`) or path (`./mine.yaml`).
/// Search order for names: `$RECAP_PIPELINES`, then `pipelines/` beside or above the `recap` executable
/// (a source checkout's `.build/release/recap` finds the repo's folder), then `/usr/local/share/recap/pipelines`
/// and `/usr/share/recap/pipelines`, then `./pipelines`.
public enum PipelineLibrary {
    public static let defaultName = "summarize"

    public static func searchFolders(environment: [String: String] = ProcessInfo.processInfo.environment) -> [URL] {
        var dirs: [URL] = []
        if let env = environment["RECAP_PIPELINES"], !env.isEmpty {
            dirs += env.split(separator: ":").map { URL(fileURLWithPath: String($0)) }
        }
        var exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { exe = URL(fileURLWithPath: p) }
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<5 {
            dirs.append(dir.appendingPathComponent("pipelines"))
            dirs.append(dir.appendingPathComponent("share/recap/pipelines"))
            dir.deleteLastPathComponent()
        }
        dirs += ["/usr/local/share/recap/pipelines", "/usr/share/recap/pipelines"].map { URL(fileURLWithPath: $0) }
        dirs.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("pipelines"))
        return dirs
    }

    public static func resolve(_ nameOrPath: String?) throws -> PipelineSpec {
        let name = nameOrPath ?? defaultName
        if name.contains("/") || name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            return try PipelineSpec.load(contentsOf: URL(fileURLWithPath: name))
        }
        let folders = searchFolders()
        for dir in folders {
            let url = dir.appendingPathComponent("\(name).yaml")
            if FileManager.default.fileExists(atPath: url.path) { return try PipelineSpec.load(contentsOf: url) }
        }
        let known = Set(folders.flatMap { (try? FileManager.default.contentsOfDirectory(atPath: $0.path)) ?? [] }
            .filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }).sorted()
        throw PipelineSpecError(file: name, line: nil, column: nil,
                                message: "no pipeline named \"\(name)\"" + (known.isEmpty ? "; set RECAP_PIPELINES to the folder holding the pipelines, or pass a .yaml path" : "; available: \(known.joined(separator: ", "))"))
    }
}
