import Foundation

/// Writes mono audio to a RIFF/WAVE file, streaming: samples are appended as they come and the header
/// sizes are patched at the end. The file appears atomically: it is written beside the target under a
/// temporary name and renamed by `finish()`; if `finish()` is never called the temporary file is removed.
public final class WAVWriter {
    public enum Encoding: Sendable { case pcm16, float32 }

    public let url: URL
    public let sampleRate: Int
    public let encoding: Encoding
    private let tempURL: URL
    private let handle: FileHandle
    private var dataBytes: UInt64 = 0
    private var finished = false

    public init(url: URL, sampleRate: Int = 16000, encoding: Encoding = .pcm16) throws {
        self.url = url
        self.sampleRate = sampleRate
        self.encoding = encoding
        tempURL = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString.prefix(8)).tmp")
        guard FileManager.default.createFile(atPath: tempURL.path, contents: nil) else {
            throw MediaError.writeFailed(path: url.path, reason: "cannot create \(tempURL.lastPathComponent) in \(url.deletingLastPathComponent().path)")
        }
        do {
            handle = try FileHandle(forWritingTo: tempURL)
            try handle.write(contentsOf: header(dataBytes: 0))
        } catch {
            try? FileManager.default.removeItem(at: tempURL)
            throw MediaError.writeFailed(path: url.path, reason: error.localizedDescription)
        }
    }

    deinit {
        if !finished {
            try? handle.close()
            try? FileManager.default.removeItem(at: tempURL)
        }
    }

    public func append(_ samples: [Float]) throws {
        let bytes: Data
        switch encoding {
        case .pcm16:
            let pcm = samples.map { Int16(max(-32768, min(32767, ($0 * 32767).rounded()))).littleEndian }
            bytes = pcm.withUnsafeBufferPointer { Data(buffer: $0) }
        case .float32:
            let bits = samples.map { $0.bitPattern.littleEndian }
            bytes = bits.withUnsafeBufferPointer { Data(buffer: $0) }
        }
        do { try handle.write(contentsOf: bytes) } catch {
            throw MediaError.writeFailed(path: url.path, reason: error.localizedDescription)
        }
        dataBytes += UInt64(bytes.count)
    }

    /// Patches the header and renames the file into place.
    public func finish() throws {
        guard !finished else { return }
        do {
            guard dataBytes <= UInt64(UInt32.max - 44) else {
                throw MediaError.writeFailed(path: url.path, reason: "audio too long for a WAV file (4 GiB limit)")
            }
            try handle.seek(toOffset: 0)
            try handle.write(contentsOf: header(dataBytes: UInt32(dataBytes)))
            try handle.close()
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            try FileManager.default.moveItem(at: tempURL, to: url)
            finished = true
        } catch let e as MediaError {
            throw e
        } catch {
            throw MediaError.writeFailed(path: url.path, reason: error.localizedDescription)
        }
    }

    public var samplesWritten: Int { Int(dataBytes) / (encoding == .pcm16 ? 2 : 4) }

    private func header(dataBytes: UInt32) -> Data {
        let bytesPerSample: UInt16 = encoding == .pcm16 ? 2 : 4
        var d = Data()
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        d.append(contentsOf: Array("RIFF".utf8)); u32(36 + dataBytes)
        d.append(contentsOf: Array("WAVE".utf8))
        d.append(contentsOf: Array("fmt ".utf8)); u32(16)
        u16(encoding == .pcm16 ? 1 : 3)             // PCM or IEEE float
        u16(1)                                       // mono
        u32(UInt32(sampleRate))
        u32(UInt32(sampleRate) * UInt32(bytesPerSample))
        u16(bytesPerSample)
        u16(bytesPerSample * 8)
        d.append(contentsOf: Array("data".utf8)); u32(dataBytes)
        return d
    }
}
