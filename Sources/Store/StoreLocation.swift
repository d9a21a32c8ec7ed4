import Foundation

/// Where the job store lives when nobody says.
///
/// Resolution, first match wins:
/// 1. `--store FILE` on the command line;
/// 2. the `RECAP_STORE` environment variable;
/// 3. `<output folder>/.recap/store.sqlite`, the output folder being `--out DIR` or `./recap-out`.
///
/// Beside the outputs is the right default for cron: the store describes exactly those outputs,
/// it moves and is backed up with them, and two archives with two output folders never share
/// (or fight over) a store. The result is always absolute, so a cron job's working directory
/// cannot silently point two runs at two different stores once resolved.
public enum StoreLocation {
    public static let environmentVariable = "RECAP_STORE"
    public static let defaultOutputFolder = "recap-out"
    public static let relativePath = ".recap/store.sqlite"

    public static func resolve(
        store: String? = nil,
        outputFolder: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        currentDirectory: String = FileManager.default.currentDirectoryPath
    ) -> URL {
        let base = URL(fileURLWithPath: currentDirectory, isDirectory: true)
        func absolute(_ p: String) -> URL {
            let expanded = (p as NSString).expandingTildeInPath
            return URL(fileURLWithPath: expanded, relativeTo: base).standardizedFileURL
        }
        if let store, !store.isEmpty { return absolute(store) }
        if let env = environment[environmentVariable], !env.isEmpty { return absolute(env) }
        let out = absolute(outputFolder.flatMap { $0.isEmpty ? nil : $0 } ?? defaultOutputFolder)
        return out.appendingPathComponent(relativePath).standardizedFileURL
    }
}
