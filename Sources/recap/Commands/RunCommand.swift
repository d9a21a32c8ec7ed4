import ArgumentParser

// Placeholder until its issue lands; the owner of this command replaces the whole file.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "(not built yet)")
    func run() async throws { throw ValidationError("recap run is not built yet") }
}
