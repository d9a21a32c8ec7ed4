import Foundation

/// A read-only view of a `.safetensors` file: u64 little-endian header length, a JSON header
/// (`{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}`), then the
/// data, offsets counted from the end of the header. The file is memory-mapped: nothing is copied until read.
struct SafeTensors {
    enum DType: String {
        case f32 = "F32", f16 = "F16", bf16 = "BF16", i64 = "I64", i32 = "I32"
        var size: Int {
            switch self {
            case .f32, .i32: return 4
            case .f16, .bf16: return 2
            case .i64: return 8
            }
        }
    }

    struct Tensor {
        var name: String
        var dtype: DType
        var shape: [Int]  // slowest first, as PyTorch writes it
        var range: Range<Int>  // in `data`
        var count: Int { shape.reduce(1, *) }
    }

    let path: String
    let data: Data
    private(set) var tensors: [String: Tensor] = [:]

    init(url: URL) throws {
        path = url.path
        data = try ModelError.mappedSource(url)
        guard data.count >= 8 else { throw ModelError.badSourceModel(path: path, reason: "shorter than its header") }
        let headerLength = data.prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) }
        // A real header is kilobytes; a huge value means this is not a safetensors file.
        guard headerLength > 1, headerLength <= min(data.count - 8, 100 << 20) else {
            throw ModelError.badSourceModel(path: path, reason: "header length \(headerLength) is not plausible")
        }
        let base = 8 + headerLength
        guard let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<base)) as? [String: Any] else {
            throw ModelError.badSourceModel(path: path, reason: "header is not a JSON object")
        }
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let rawType = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw ModelError.badSourceModel(path: path, reason: "tensor \(name) has a malformed header entry") }
            guard let dtype = DType(rawValue: rawType) else {
                throw ModelError.badSourceModel(path: path, reason: "tensor \(name) has unsupported dtype \(rawType)")
            }
            let range = (base + offsets[0])..<(base + offsets[1])
            guard offsets[0] <= offsets[1], range.upperBound <= data.count,
                  range.count == shape.reduce(1, *) * dtype.size else {
                throw ModelError.badSourceModel(path: path, reason: "tensor \(name): \(range.count) bytes for shape \(shape) \(rawType)")
            }
            tensors[name] = Tensor(name: name, dtype: dtype, shape: shape, range: range)
        }
    }

    func tensor(_ name: String) throws -> Tensor {
        guard let t = tensors[name] else { throw ModelError.badSourceModel(path: path, reason: "no tensor \(name)") }
        return t
    }

    /// The tensor's values as f32 (from F32, F16 or BF16).
    func floats(_ t: Tensor) throws -> [Float] {
        let n = t.count
        let bytes = data[t.range]
        switch t.dtype {
        case .f32:
            return [Float](unsafeUninitializedCapacity: n) { out, done in
                bytes.withUnsafeBytes { src in
                    for i in 0..<n { out[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
                }
                done = n
            }
        case .f16:
            return [Float](unsafeUninitializedCapacity: n) { out, done in
                bytes.withUnsafeBytes { src in
                    for i in 0..<n { out[i] = Float(Float16(bitPattern: UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))) }
                }
                done = n
            }
        case .bf16:
            return [Float](unsafeUninitializedCapacity: n) { out, done in
                bytes.withUnsafeBytes { src in
                    for i in 0..<n {
                        let h = UInt32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                        out[i] = Float(bitPattern: h << 16)
                    }
                }
                done = n
            }
        case .i64, .i32:
            throw ModelError.badSourceModel(path: path, reason: "\(t.name) is \(t.dtype.rawValue), not a float tensor")
        }
    }
}
