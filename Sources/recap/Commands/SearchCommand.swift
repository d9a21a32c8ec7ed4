import ArgumentParser

// Placeholder until its issue lands; the owner of this command replaces the whole file.
struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "search", abstract: "(not built yet)")
    func run() async throws { throw ValidationError("recap search is not built yet") }
}
