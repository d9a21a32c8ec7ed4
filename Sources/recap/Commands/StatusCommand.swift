import ArgumentParser

// Placeholder until its issue lands; the owner of this command replaces the whole file.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "(not built yet)")
    func run() async throws { throw ValidationError("recap status is not built yet") }
}
