import Foundation

/// Writes a GGUF v3 file, the format llama.cpp loads (gguf-py's `GGUFWriter` and ggml's `gguf.cpp` define it):
///
///   "GGUF", u32 version 3, u64 tensor count, u64 metadata count;
///   each metadata entry: key (u64 length + UTF-8), u32 value type, value (arrays: u32 element type, u64 count,
///   elements); each tensor info: name, u32 n_dims, u64 × n_dims dims (fastest first, as ggml's ne[]),
///   u32 ggml type, u64 offset from the start of the data section;
///   zero padding to the alignment (32, the default, so no `general.alignment` key), then each tensor's data,
///   each padded to the alignment.
///
/// Everything is little-endian and written in insertion order, so the same inputs give the same bytes.
struct GGUFWriter {
    enum Value {
        case string(String)
        case uint32(UInt32)
        case float32(Float)
        case bool(Bool)
        case strings([String])
        case int32s([Int32])
    }

    /// ggml's type ids for the two element types written here.
    enum TensorType: UInt32 {
        case f32 = 0, f16 = 1
    }

    struct Tensor {
        var name: String
        var shape: [Int]  // slowest first, as PyTorch writes it
        var type: TensorType
        var bytes: [UInt8]
    }

    static let alignment = 32
    private(set) var metadata: [(key: String, value: Value)] = []
    private(set) var tensors: [Tensor] = []

    mutating func add(_ key: String, _ value: Value) {
        precondition(!metadata.contains { $0.key == key }, "duplicate GGUF key \(key)")
        metadata.append((key, value))
    }

    /// Adds a tensor, stored as `type` (f16 rounds to nearest, as numpy's astype does).
    mutating func addTensor(_ name: String, shape: [Int], values: [Float], as type: TensorType) {
        precondition(shape.reduce(1, *) == values.count, "\(name): shape \(shape) for \(values.count) values")
        let bytes: [UInt8]
        switch type {
        case .f32:
            let words = values.map { $0.bitPattern.littleEndian }
            bytes = words.withUnsafeBytes { Array($0) }
        case .f16:
            // One pass over a buffer: per-element appends are slow in debug builds (make test's installer).
            let halves = [UInt16](unsafeUninitializedCapacity: values.count) { out, n in
                values.withUnsafeBufferPointer { src in
                    for i in 0..<src.count { out[i] = Float16(src[i]).bitPattern.littleEndian }
                }
                n = values.count
            }
            bytes = halves.withUnsafeBytes { Array($0) }
        }
        tensors.append(Tensor(name: name, shape: shape, type: type, bytes: bytes))
    }

    /// Writes the file atomically (a temporary file beside `output`, then a rename). Returns its size.
    @discardableResult
    func write(to output: URL) throws -> Int {
        let file = try GGMLFileWriter(destination: output)
        do {
            var head = ByteSink()
            head.u32(0x4655_4747)  // "GGUF" read as a little-endian u32
            head.u32(3)
            head.u64(tensors.count)
            head.u64(metadata.count)
            for (key, value) in metadata {
                head.string(key)
                head.value(value)
            }
            var offset = 0
            for t in tensors {
                head.string(t.name)
                head.u32(t.shape.count)
                for d in t.shape.reversed() { head.u64(d) }
                head.u32(Int(t.type.rawValue))
                head.u64(offset)
                offset += Self.padded(t.bytes.count)
            }
            head.pad()
            file.raw(head.bytes)
            for t in tensors {
                file.raw(t.bytes)
                file.raw([UInt8](repeating: 0, count: Self.padded(t.bytes.count) - t.bytes.count))
            }
            let size = file.bytesWritten
            try file.commit()
            return size
        } catch {
            file.abandon()
            throw error
        }
    }

    static func padded(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }
}

/// The header's bytes, little-endian.
private struct ByteSink {
    var bytes: [UInt8] = []

    mutating func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: Int) { withUnsafeBytes(of: UInt64(v).littleEndian) { bytes.append(contentsOf: $0) } }

    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        u64(utf8.count)
        bytes.append(contentsOf: utf8)
    }

    /// GGUF value type ids: 4 uint32, 5 int32, 6 float32, 7 bool, 8 string, 9 array.
    mutating func value(_ v: GGUFWriter.Value) {
        switch v {
        case .string(let s):
            u32(8); string(s)
        case .uint32(let x):
            u32(4); u32(Int(x))
        case .float32(let f):
            u32(6); withUnsafeBytes(of: f.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        case .bool(let b):
            u32(7); bytes.append(b ? 1 : 0)
        case .strings(let list):
            u32(9); u32(8); u64(list.count)
            for s in list { string(s) }
        case .int32s(let list):
            u32(9); u32(5); u64(list.count)
            for x in list { withUnsafeBytes(of: x.littleEndian) { bytes.append(contentsOf: $0) } }
        }
    }

    mutating func pad() {
        bytes.append(contentsOf: [UInt8](repeating: 0, count: GGUFWriter.padded(bytes.count) - bytes.count))
    }
}
