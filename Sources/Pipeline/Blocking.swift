import Dispatch

/// Runs long synchronous work (FFmpeg decoding, whisper.cpp, OCR) on a Dispatch thread instead of a
/// Swift concurrency thread. The cooperative pool has one thread per core (two here); blocking both for
/// minutes would starve lease heartbeats and the progress bar.
public enum Blocking {
    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try Task.checkCancellation()
        return try await withCheckedThrowingContinuation { c in
            DispatchQueue.global(qos: .userInitiated).async {
                c.resume(with: Result { try work() })
            }
        }
    }
}
