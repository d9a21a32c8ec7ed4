import ArgumentParser

// Placeholder until its issue lands; the owner of this command replaces the whole file.
struct FramesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "frames", abstract: "(not built yet)")
    func run() async throws { throw ValidationError("recap frames is not built yet") }
}
