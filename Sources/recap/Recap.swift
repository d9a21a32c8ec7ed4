import ArgumentParser

/// The `recap` command. Each subcommand lives in its own file under Commands/.
@main
struct Recap: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recap",
        abstract: "Turn folders of videos into captions, summaries and transcripts, as JSON, on your own machine.",
        discussion: """
            Start with `recap run FOLDER --out OUT`. Everything runs locally by default (whisper.cpp for speech, \
            a small llama-server model for language); point --engine openai --base-url at a vLLM or llama-server \
            serving Gemma 3n for the full multimodal model.
            """,
        version: "0.1.0",
        subcommands: [
            RunCommand.self, WorkerCommand.self, SearchCommand.self, ServeCommand.self, StatusCommand.self, JobsCommand.self,
            ProbeCommand.self, FramesCommand.self, AudioCommand.self, TranscribeCommand.self,
            EngineCommand.self, ModelsCommand.self, ExportCommand.self,
        ]
    )
}
