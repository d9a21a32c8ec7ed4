import ArgumentParser

// Placeholder until its issue lands; the owner of this command replaces the whole file.
struct EngineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "engine", abstract: "(not built yet)")
    func run() async throws { throw ValidationError("recap engine is not built yet") }
}
