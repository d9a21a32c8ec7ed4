import Foundation

/// A clip cut by `AudioChunker`: at most `maxClipDuration` seconds, starting `startTime` into the file.
public struct AudioClip: Sendable, Equatable {
    public var index: Int
    public var startTime: Double
    public var sampleRate: Int
    public var samples: [Float]
    public var duration: Double { Double(samples.count) / Double(sampleRate) }
    public var endTime: Double { startTime + duration }

    public init(index: Int, startTime: Double, sampleRate: Int, samples: [Float]) {
        self.index = index; self.startTime = startTime; self.sampleRate = sampleRate; self.samples = samples
    }
}

/// Cuts a stream of audio into clips of at most `maxClipDuration` seconds (default 30, Gemma 3n's limit).
///
/// Each cut falls at the quietest point of the last `searchWindow` seconds before the limit: the 100 ms
/// stretch with the least energy, so a pause between words or sentences is preferred over a cut mid-word.
/// Clips are contiguous: together they hold every sample exactly once.
public struct AudioChunker: Sendable {
    public var maxClipDuration: Double
    public var searchWindow: Double
    public var sampleRate: Int

    public init(maxClipDuration: Double = 30, searchWindow: Double = 5, sampleRate: Int = 16000) {
        self.maxClipDuration = maxClipDuration
        self.searchWindow = min(searchWindow, maxClipDuration / 2)
        self.sampleRate = sampleRate
    }

    /// Splits samples already in memory.
    public func split(_ samples: [Float], startTime: Double = 0) -> [AudioClip] {
        var state = State(chunker: self)
        var clips = state.push(AudioChunk(startTime: startTime, sampleRate: sampleRate, samples: samples))
        if let last = state.finish() { clips.append(last) }
        return clips
    }

    /// Clips from a chunk sequence (usually an `AudioStream`), pulled lazily: memory stays at about one clip.
    public func clips<Base: AsyncSequence>(from base: Base) -> AudioClipSequence<Base> where Base.Element == AudioChunk {
        AudioClipSequence(base: base, chunker: self)
    }

    /// The incremental form: push chunks, get finished clips, then `finish()` for the tail.
    public struct State: Sendable {
        let chunker: AudioChunker
        var buffer: [Float] = []
        var bufferStart: Double? = nil
        var nextIndex = 0

        public init(chunker: AudioChunker) { self.chunker = chunker }

        var maxSamples: Int { max(1, Int(chunker.maxClipDuration * Double(chunker.sampleRate))) }

        public mutating func push(_ chunk: AudioChunk) -> [AudioClip] {
            if bufferStart == nil { bufferStart = chunk.startTime }
            buffer.append(contentsOf: chunk.samples)
            var out: [AudioClip] = []
            while buffer.count > maxSamples {
                let cut = chunker.quietestCut(in: buffer, limit: maxSamples)
                out.append(emit(count: cut))
            }
            return out
        }

        public mutating func finish() -> AudioClip? {
            buffer.isEmpty ? nil : emit(count: buffer.count)
        }

        private mutating func emit(count: Int) -> AudioClip {
            let start = bufferStart ?? 0
            let clip = AudioClip(index: nextIndex, startTime: start, sampleRate: chunker.sampleRate,
                                 samples: Array(buffer[0..<count]))
            buffer.removeFirst(count)
            bufferStart = start + Double(count) / Double(chunker.sampleRate)
            nextIndex += 1
            return clip
        }
    }

    /// The sample index to cut at: the centre of the quietest 100 ms window in [limit - searchWindow, limit].
    func quietestCut(in samples: [Float], limit: Int) -> Int {
        let hop = max(1, sampleRate / 100)          // 10 ms energy frames
        let span = 5                                // 5 frames on each side: a ~100 ms window
        let windowSamples = Int(searchWindow * Double(sampleRate))
        let lo = max(hop, limit - windowSamples)
        let frameCount = limit / hop
        guard frameCount > 0 else { return limit }
        var energy = [Double](repeating: 0, count: frameCount)
        let firstFrame = max(0, lo / hop - span)
        for f in firstFrame..<frameCount {
            var e = 0.0
            let base = f * hop
            for i in base..<min(base + hop, samples.count) { e += Double(samples[i] * samples[i]) }
            energy[f] = e
        }
        var best = limit
        var bestEnergy = Double.infinity
        var f = frameCount - 1
        // Walk from the limit backwards so that among equally quiet points the longest clip wins.
        while f * hop >= lo {
            var e = 0.0
            for k in max(0, f - span)...min(frameCount - 1, f + span) { e += energy[k] }
            if e < bestEnergy * 0.999 { bestEnergy = e; best = f * hop }
            f -= 1
        }
        return min(max(best, 1), limit)
    }
}

/// `AudioChunker.clips(from:)`: an AsyncSequence of clips over a chunk sequence.
public struct AudioClipSequence<Base: AsyncSequence>: AsyncSequence where Base.Element == AudioChunk {
    public typealias Element = AudioClip
    let base: Base
    let chunker: AudioChunker

    public func makeAsyncIterator() -> Iterator {
        Iterator(base: base.makeAsyncIterator(), state: AudioChunker.State(chunker: chunker))
    }

    public struct Iterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        var state: AudioChunker.State
        var ready: [AudioClip] = []
        var done = false

        public mutating func next() async throws -> AudioClip? {
            while ready.isEmpty && !done {
                if let chunk = try await base.next() {
                    ready.append(contentsOf: state.push(chunk))
                } else {
                    done = true
                    if let last = state.finish() { ready.append(last) }
                }
            }
            return ready.isEmpty ? nil : ready.removeFirst()
        }
    }
}
