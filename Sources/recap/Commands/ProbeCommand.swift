import ArgumentParser

// Placeholder until its issue lands; the owner of this command replaces the whole file.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "probe", abstract: "(not built yet)")
    func run() async throws { throw ValidationError("recap probe is not built yet") }
}
