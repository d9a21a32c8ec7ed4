import Foundation

/// How many threads whisper should use right now. ggml's worker threads spin at every barrier while they
/// wait for each other; when another process holds a core, one of them is descheduled and the others spin
/// for its whole time slice. Measured on 2 cores with two `yes` running: 2 threads took 3.3× their idle
/// time, 1 thread 1.7×. So before each call the count is set to the cores other processes leave free.
enum CPUBudget {
    /// How long the machine is watched before a call.
    static let window: useconds_t = 100_000

    /// `requested` capped by the cores that other processes are not using, at least 1.
    static func threads(upTo requested: Int) -> Int {
        guard requested > 1, let others = coresUsedByOthers() else { return max(1, requested) }
        let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
        return max(1, min(requested, Int((cores - others + 0.25).rounded(.down))))
    }

    /// Cores busy with other processes over `window`: the machine's busy time (/proc/stat) minus this
    /// process's own (/proc/self/stat), both in clock ticks. Nil where /proc is not there.
    static func coresUsedByOthers() -> Double? {
        guard let a = sample() else { return nil }
        usleep(window)
        guard let b = sample(), b.total > a.total else { return nil }
        let others = Double((b.busy - a.busy) - (b.mine - a.mine)) / Double(b.total - a.total)
        return max(0, others) * Double(ProcessInfo.processInfo.activeProcessorCount)
    }

    private static func sample() -> (busy: Int, total: Int, mine: Int)? {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let cpu = stat.split(separator: "\n").first, cpu.hasPrefix("cpu "),
              let me = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = me.lastIndex(of: ")") else { return nil }
        // user nice system idle iowait irq softirq steal
        let t = cpu.split(separator: " ").dropFirst().prefix(8).compactMap { Int($0) }
        guard t.count == 8 else { return nil }
        // After the command name: state is field 3, utime and stime are fields 14 and 15.
        let f = me[me.index(after: close)...].split(separator: " ")
        guard f.count > 13, let utime = Int(f[11]), let stime = Int(f[12]) else { return nil }
        let idle = t[3] + t[4]
        let total = t.reduce(0, +)
        return (total - idle, total, utime + stime)
    }
}
