import ArgumentParser

// Placeholder until its issue lands; the owner of this command replaces the whole file.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jobs", abstract: "(not built yet)")
    func run() async throws { throw ValidationError("recap jobs is not built yet") }
}
