import ArgumentParser

// Placeholder until its issue lands; the owner of this command replaces the whole file.
struct AudioCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audio", abstract: "(not built yet)")
    func run() async throws { throw ValidationError("recap audio is not built yet") }
}
