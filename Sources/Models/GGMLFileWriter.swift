import Foundation

/// Buffered little-endian writer for a ggml model file: a temporary file beside the destination,
/// renamed over it on `commit()`, removed on `abandon()`.
final class GGMLFileWriter {
    let destination: URL
    private let temp: URL
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private(set) var bytesWritten = 0
    private var failure: Error?

    init(destination: URL) throws {
        self.destination = destination
        temp = destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).\(getpid()).tmp")
        guard FileManager.default.createFile(atPath: temp.path, contents: nil),
              let h = FileHandle(forWritingAtPath: temp.path) else {
            throw ModelError.writeFailed(path: temp.path, reason: "cannot create")
        }
        handle = h
        buffer.reserveCapacity(1 << 20)
    }

    deinit { try? handle.close() }

    func i32(_ v: Int) {
        withUnsafeBytes(of: Int32(v).littleEndian) { raw($0) }
    }

    func f32(_ values: [Float]) {
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { raw($0) } }
    }

    func raw<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        buffer.append(contentsOf: bytes)
        bytesWritten += bytes.count
        if buffer.count >= 1 << 20 { flush() }
    }

    private func flush() {
        guard failure == nil, !buffer.isEmpty else { buffer.removeAll(keepingCapacity: true); return }
        do { try handle.write(contentsOf: buffer) } catch { failure = error }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Header (dims fastest first, as ggml's ne[]) and data of one planned tensor.
    func tensor(_ t: PlannedTensor, from model: CTranslate2Model) throws {
        let name = Array(t.name.utf8)
        i32(t.shape.count)
        i32(name.count)
        i32(t.f32 ? 0 : 1)
        for d in t.shape.reversed() { i32(d) }
        raw(name)

        let v = t.source
        let rowElems = v.shape.dropFirst().reduce(1, *)
        let start = v.range.lowerBound + t.rows.lowerBound * rowElems * v.dtype.size
        let count = t.rows.count * rowElems
        let bytes = model.data[start..<(start + count * v.dtype.size)]
        switch (v.dtype, t.f32) {
        case (.float16, false), (.float32, true):
            raw(bytes)
        case (.float16, true):
            // Whole tensor at once: per-element appends are slow in debug builds (make test's installer).
            let floats = [UInt32](unsafeUninitializedCapacity: count) { out, n in
                bytes.withUnsafeBytes { src in
                    let halves = src.bindMemory(to: UInt16.self)
                    for i in 0..<count { out[i] = Float(Float16(bitPattern: UInt16(littleEndian: halves[i]))).bitPattern.littleEndian }
                }
                n = count
            }
            floats.withUnsafeBytes { raw($0) }
        case (.float32, false):
            let halves = [UInt16](unsafeUninitializedCapacity: count) { out, n in
                bytes.withUnsafeBytes { src in
                    let floats = src.bindMemory(to: UInt32.self)
                    for i in 0..<count { out[i] = Float16(Float(bitPattern: UInt32(littleEndian: floats[i]))).bitPattern.littleEndian }
                }
                n = count
            }
            halves.withUnsafeBytes { raw($0) }
        default:
            throw ModelError.badSourceModel(path: model.path, reason: "\(v.name): cannot convert \(v.dtype)")
        }
        if let failure { throw ModelError.writeFailed(path: temp.path, reason: "\(failure)") }
    }

    func commit() throws {
        flush()
        if let failure { abandon(); throw ModelError.writeFailed(path: temp.path, reason: "\(failure)") }
        do {
            try handle.synchronize()
            try handle.close()
        } catch {
            abandon()
            throw ModelError.writeFailed(path: destination.path, reason: error.localizedDescription)
        }
        // rename(2): atomic, replaces an older file in one step.
        if rename(temp.path, destination.path) != 0 {
            let reason = String(cString: strerror(errno))
            abandon()
            throw ModelError.writeFailed(path: destination.path, reason: reason)
        }
    }

    func abandon() {
        try? handle.close()
        try? FileManager.default.removeItem(at: temp)
    }
}
