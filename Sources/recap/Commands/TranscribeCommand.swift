import ArgumentParser

// Placeholder until its issue lands; the owner of this command replaces the whole file.
struct TranscribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "transcribe", abstract: "(not built yet)")
    func run() async throws { throw ValidationError("recap transcribe is not built yet") }
}
