import ArgumentParser

// Placeholder until its issue lands; the owner of this command replaces the whole file.
struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "models", abstract: "(not built yet)")
    func run() async throws { throw ValidationError("recap models is not built yet") }
}
