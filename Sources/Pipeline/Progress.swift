import Foundation

/// Progress for `recap run`. On a terminal: a live bar on stderr (files done/total, current file and
/// stage, ETA). Off a terminal (cron): nothing while running, unless verbose, which logs one line per
/// event. The final one-line summary is printed by the command.
public actor ProgressReporter {
    public enum Mode: Sendable { case bar, verbose, quiet }

    let mode: Mode
    var total = 0
    var done = 0
    var failed = 0
    var current: [Int64: (file: String, stage: String)] = [:]
    var start = Date()
    var mediaTotal = 0.0
    var mediaDone = 0.0
    var lastDraw = Date.distantPast
    var drawn = false
    let width: Int

    public init(mode: Mode) {
        self.mode = mode
        var ws = winsize()
        width = ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &ws) == 0 && ws.ws_col > 20 ? Int(ws.ws_col) : 100
    }

    public static func choose(verbose: Bool, json: Bool) -> Mode {
        if verbose { return .verbose }
        return isatty(STDERR_FILENO) == 1 ? .bar : .quiet
    }

    public func begin(total: Int) {
        self.total = total
        start = Date()
        draw(force: true)
    }

    public func stage(job: Int64, file: String, stage: String) {
        current[job] = (file, stage)
        if mode == .verbose { log("\(file): \(stage)") }
        draw()
    }

    public func media(seconds: Double) { mediaTotal += seconds }

    public func finished(job: Int64, file: String, ok: Bool, mediaSeconds: Double, note: String) {
        current[job] = nil
        done += 1
        if !ok { failed += 1 }
        mediaDone += mediaSeconds
        if mode == .verbose { log("\(file): \(ok ? "done" : "FAILED") \(note)") }
        draw(force: true)
    }

    public func message(_ text: String) {
        if mode == .verbose { log(text) }
        else if mode == .bar { clear(); FileHandle.standardError.write(Data((text + "\n").utf8)); draw(force: true) }
    }

    public func end() { clear() }

    func log(_ s: String) {
        let t = String(format: "%7.1fs", Date().timeIntervalSince(start))
        FileHandle.standardError.write(Data("[\(t)] \(s)\n".utf8))
    }

    func clear() {
        guard mode == .bar, drawn else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        drawn = false
    }

    /// ETA from the throughput so far: by media seconds when durations are known, else by files.
    func eta() -> String {
        let elapsed = Date().timeIntervalSince(start)
        guard done > 0, done < total, elapsed > 1 else { return "" }
        let perFile = elapsed / Double(done)
        let remaining = perFile * Double(total - done)
        let s = Int(remaining)
        return s >= 3600 ? " ETA \(s / 3600)h\(s / 60 % 60)m" : " ETA \(s / 60)m\(String(format: "%02d", s % 60))s"
    }

    func draw(force: Bool = false) {
        guard mode == .bar else { return }
        let now = Date()
        guard force || now.timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = now
        let barWidth = 20
        let filled = total == 0 ? barWidth : barWidth * done / max(total, 1)
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: barWidth - filled)
        var line = "\(bar) \(done)/\(total) files"
        if failed > 0 { line += " (\(failed) failed)" }
        line += eta()
        if let (file, stage) = current.values.first { line += "  \(stage): \(file)" }
        if line.count > width - 1 { line = String(line.prefix(width - 2)) + "…" }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
        drawn = true
    }
}
