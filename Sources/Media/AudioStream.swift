import CFFmpeg
import Foundation

/// A run of decoded audio: Float32 mono samples at `sampleRate`, starting `startTime` seconds into the file.
public struct AudioChunk: Sendable, Equatable {
    public var startTime: Double
    public var sampleRate: Int
    public var samples: [Float]
    /// Damaged packets the decoder skipped so far in the stream, this chunk included (0 for an intact file).
    public var damagedPackets: Int
    public var duration: Double { Double(samples.count) / Double(sampleRate) }
    public var endTime: Double { startTime + duration }

    public init(startTime: Double, sampleRate: Int, samples: [Float], damagedPackets: Int = 0) {
        self.startTime = startTime; self.sampleRate = sampleRate; self.samples = samples; self.damagedPackets = damagedPackets
    }
}

/// Facts about the audio stream an `AudioStream` decodes.
public struct AudioSourceInfo: Sendable, Equatable, Codable {
    public var streamIndex: Int
    public var codec: String
    public var sourceSampleRate: Int
    public var sourceChannels: Int
    /// The stream's duration in seconds as the container states it (nil if unknown).
    public var duration: Double?
}

/// The best audio stream of a file, decoded and downmixed to mono Float32 at 16 kHz (libswresample),
/// delivered in chunks of about `chunkDuration` seconds.
///
/// It is an `AsyncSequence` pulled one chunk at a time: nothing is decoded ahead of the consumer (that is
/// the back-pressure), and only one chunk is in memory, so a two-hour file costs the same memory as a
/// two-minute one. Iteration checks for task cancellation between chunks.
///
///     guard let audio = try AudioStream.open(url: file) else { /* no audio stream: not an error */ }
///     for try await chunk in audio { ... }
public struct AudioStream: AsyncSequence, Sendable {
    public typealias Element = AudioChunk

    public let url: URL
    public let info: AudioSourceInfo
    public let sampleRate: Int
    public let chunkDuration: Double

    /// Opens `url` and picks its best audio stream.
    ///
    /// - Returns: nil when the file has no audio stream (a silent video): a normal result, not an error.
    /// - Throws: `MediaError` when the file cannot be read as media.
    public static func open(url: URL, sampleRate: Int = 16000, chunkDuration: Double = 1.0) throws -> AudioStream? {
        guard sampleRate > 0, chunkDuration > 0 else {
            throw MediaError.invalidRequest("audio: sampleRate and chunkDuration must be positive")
        }
        let input = try InputFile(path: url.path)
        guard let index = input.bestStream(AVMEDIA_TYPE_AUDIO) else { return nil }
        let st = input.stream(index)
        let par = st.pointee.codecpar.pointee
        let d = st.pointee.duration
        let streamDuration = d == recap_nopts_value() || d <= 0 ? input.duration : Double(d) * av_q2d(st.pointee.time_base)
        let info = AudioSourceInfo(
            streamIndex: index, codec: String(cString: avcodec_get_name(par.codec_id)),
            sourceSampleRate: Int(par.sample_rate), sourceChannels: Int(par.ch_layout.nb_channels),
            duration: streamDuration)
        return AudioStream(url: url, info: info, sampleRate: sampleRate, chunkDuration: chunkDuration)
    }

    public func makeAsyncIterator() -> Iterator { Iterator(stream: self) }

    public struct Iterator: AsyncIteratorProtocol {
        let stream: AudioStream
        var decoder: AudioDecoder? = nil
        var finished = false

        public mutating func next() async throws -> AudioChunk? {
            if finished { return nil }
            try Task.checkCancellation()
            if decoder == nil { decoder = try AudioDecoder(stream: stream) }
            guard let chunk = try decoder!.nextChunk() else {
                finished = true
                decoder = nil  // free FFmpeg objects as soon as we are done
                return nil
            }
            return chunk
        }
    }

    /// Synchronous pull loop for callers outside async code (the CLI's WAV writer, tests).
    public func forEachChunk(_ body: (AudioChunk) throws -> Void) throws {
        let decoder = try AudioDecoder(stream: self)
        while let chunk = try decoder.nextChunk() {
            try body(chunk)
        }
    }

    /// All samples of a short file in one array. Meant for clips of minutes, not hours.
    /// - Returns: nil when the file has no audio stream.
    public static func readAll(url: URL, sampleRate: Int = 16000) throws -> AudioChunk? {
        guard let stream = try open(url: url, sampleRate: sampleRate, chunkDuration: 10) else { return nil }
        var all: [Float] = []
        var start: Double? = nil
        var damaged = 0
        try stream.forEachChunk { chunk in
            if start == nil { start = chunk.startTime }
            all.append(contentsOf: chunk.samples)
            damaged = chunk.damagedPackets
        }
        return AudioChunk(startTime: start ?? 0, sampleRate: sampleRate, samples: all, damagedPackets: damaged)
    }
}

/// A libswresample context (SwrContext), freed in deinit.
final class Resampler {
    private(set) var ctx: OpaquePointer?
    let inRate: Int32
    let inFormat: Int32
    let inChannels: Int32

    init(frame: UnsafePointer<AVFrame>, outRate: Int, path: String) throws {
        inRate = frame.pointee.sample_rate
        inFormat = frame.pointee.format
        var inLayout = AVChannelLayout()
        if frame.pointee.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || frame.pointee.ch_layout.nb_channels == 0 {
            av_channel_layout_default(&inLayout, max(1, frame.pointee.ch_layout.nb_channels))
        } else {
            var src = frame.pointee.ch_layout
            av_channel_layout_copy(&inLayout, &src)
        }
        defer { av_channel_layout_uninit(&inLayout) }
        inChannels = inLayout.nb_channels
        var outLayout = AVChannelLayout()
        av_channel_layout_default(&outLayout, 1)
        var swr: OpaquePointer? = nil
        var rc = swr_alloc_set_opts2(&swr, &outLayout, AV_SAMPLE_FMT_FLT, Int32(outRate),
                                     &inLayout, AVSampleFormat(rawValue: inFormat), inRate, 0, nil)
        if rc >= 0 { rc = swr_init(swr) }
        if rc < 0 {
            swr_free(&swr)
            throw MediaError.ffmpeg(path: path, operation: "set up audio resampling", reason: FFmpegText.error(rc, withLog: false))
        }
        ctx = swr
    }

    deinit { swr_free(&ctx) }

    func matches(_ frame: UnsafePointer<AVFrame>) -> Bool {
        frame.pointee.sample_rate == inRate && frame.pointee.format == inFormat
            && frame.pointee.ch_layout.nb_channels == inChannels
    }

    /// Converts one frame (or flushes, with nil) and appends the output to `out`.
    func convert(_ frame: UnsafePointer<AVFrame>?, into out: inout [Float], path: String) throws {
        let inCount = frame.map { Int32($0.pointee.nb_samples) } ?? 0
        let capacity = Int(swr_get_out_samples(ctx, inCount)) + 32
        guard capacity > 0 else { return }
        let old = out.count
        out.append(contentsOf: repeatElement(0, count: capacity))
        let produced: Int32 = out.withUnsafeMutableBufferPointer { buf in
            var dst: UnsafeMutablePointer<UInt8>? = UnsafeMutableRawPointer(buf.baseAddress! + old).assumingMemoryBound(to: UInt8.self)
            if let frame {
                let src = UnsafeMutableRawPointer(frame.pointee.extended_data).assumingMemoryBound(to: UnsafePointer<UInt8>?.self)
                return swr_convert(ctx, &dst, Int32(capacity), src, inCount)
            }
            return swr_convert(ctx, &dst, Int32(capacity), nil, 0)
        }
        if produced < 0 {
            out.removeLast(capacity)
            throw MediaError.ffmpeg(path: path, operation: "resample audio", reason: FFmpegText.error(produced, withLog: false))
        }
        out.removeLast(capacity - Int(produced))
    }
}

/// Demux, decode, resample: the engine behind `AudioStream`. Owns its FFmpeg objects.
final class AudioDecoder {
    let input: InputFile
    let decoder: Decoder
    let path: String
    let outRate: Int
    let chunkSamples: Int
    /// Samples to keep at most: the container's stated duration, so encoder padding is not reported as audio.
    let maxSamples: Int?
    private let packet = Packet()
    private let frame = Frame()
    private var resampler: Resampler? = nil
    private var pending: [Float] = []
    private var firstTime: Double? = nil
    private var emitted = 0
    private var demuxDone = false
    private var decoderDrained = false
    private var flushed = false
    private var damage = DecodeDamage()

    init(stream: AudioStream) throws {
        path = stream.url.path
        input = try InputFile(path: path, findStreamInfo: false)   // open() already probed this file
        let index = stream.info.streamIndex
        guard index < input.streamCount else { throw MediaError.notMedia(path: path, reason: "audio stream vanished") }
        // Only the audio stream is demuxed: the container skips video packets without reading them.
        for i in 0..<input.streamCount where i != index {
            input.stream(i).pointee.discard = AVDISCARD_ALL
        }
        decoder = try Decoder(input: input, streamIndex: index, threads: 1)
        outRate = stream.sampleRate
        chunkSamples = max(1, Int(stream.chunkDuration * Double(stream.sampleRate)))
        maxSamples = stream.info.duration.map { Int(($0 * Double(stream.sampleRate)).rounded()) }
        pending.reserveCapacity(chunkSamples * 2)
    }

    /// The next chunk, or nil at the end.
    func nextChunk() throws -> AudioChunk? {
        while pending.count < chunkSamples && !flushed {
            try step()
        }
        var take = min(chunkSamples, pending.count)
        if let maxSamples, firstTime != nil {
            let startSample = Int(((firstTime ?? 0) * Double(outRate)).rounded())
            take = max(0, min(take, maxSamples - startSample - emitted))
        }
        if take == 0 { pending.removeAll(); return nil }
        let samples = Array(pending[0..<take])
        pending.removeFirst(take)
        let start = (firstTime ?? 0) + Double(emitted) / Double(outRate)
        emitted += take
        return AudioChunk(startTime: start, sampleRate: outRate, samples: samples, damagedPackets: damage.skipped)
    }

    /// Moves the pipeline one step: read a packet, or drain the decoder, or flush the resampler.
    private func step() throws {
        // Take every frame the decoder has ready.
        while true {
            let rc = avcodec_receive_frame(decoder.ctx, frame.ptr)
            if rc == recap_averror_eagain() { break }
            if rc == recap_averror_eof() { decoderDrained = true; break }
            if rc < 0 {
                if damage.skip(rc) { continue }
                throw MediaError.ffmpeg(path: path, operation: "decode audio", reason: FFmpegText.error(rc))
            }
            damage.decoded()
            defer { frame.unref() }
            try consume(frame.ptr)
        }
        if decoderDrained {
            try resampler?.convert(nil, into: &pending, path: path)
            flushed = true
            return
        }
        if demuxDone {
            // The decoder wanted more input but there is none: ask it to flush again; if it cannot
            // (already flushing or broken), treat it as drained rather than loop forever.
            if avcodec_send_packet(decoder.ctx, nil) < 0 { decoderDrained = true }
            return
        }
        let rc = av_read_frame(input.ctx, packet.ptr)
        if rc < 0 {
            // EOF or a read error after some data: drain what we have (a truncated file still yields audio).
            demuxDone = true
            avcodec_send_packet(decoder.ctx, nil)
            return
        }
        defer { packet.unref() }
        guard Int(packet.ptr.pointee.stream_index) == decoder.streamIndex else { return }
        let send = avcodec_send_packet(decoder.ctx, packet.ptr)
        // Corrupt packets are skipped, as players do (decoders report them as INVALIDDATA, or AAC's -1); only a
        // decoder that keeps failing, or runs out of memory, is a real failure.
        if send < 0 && send != recap_averror_eagain() && !damage.skip(send) {
            throw MediaError.ffmpeg(path: path, operation: "decode audio", reason: FFmpegText.error(send))
        }
    }

    private func consume(_ f: UnsafeMutablePointer<AVFrame>) throws {
        if firstTime == nil {
            let ts = f.pointee.best_effort_timestamp
            let t = ts == recap_nopts_value() ? 0 : Double(ts) * av_q2d(decoder.timeBase) - input.startOffset
            firstTime = max(0, t)
        }
        if let r = resampler, !r.matches(f) {
            try r.convert(nil, into: &pending, path: path)
            resampler = nil
        }
        if resampler == nil { resampler = try Resampler(frame: f, outRate: outRate, path: path) }
        try resampler!.convert(f, into: &pending, path: path)
    }
}
