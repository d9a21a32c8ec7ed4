import Foundation

/// Reads the named weight tensors (a graph's `initializer` list) from an ONNX file: just enough protobuf to
/// find them, so converting Silero VAD needs neither onnx nor torch. Only float32 tensors stored as
/// `raw_data` are read (what silero_vad's exports hold); anything else is reported, never guessed.
struct ONNXInitializers {
    struct Tensor {
        var dims: [Int]
        /// Little-endian float32 values.
        var floats: [Float]
    }

    let tensors: [String: Tensor]

    init(url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ModelError.badSourceModel(path: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
        var found: [String: Tensor] = [:]
        do {
            let bytes = [UInt8](data)
            // ModelProto.graph is field 7; GraphProto.initializer is field 5 (onnx.proto3).
            for field in try Protobuf.fields(bytes[...]) where field.number == 7 {
                for g in try Protobuf.fields(field.bytes) where g.number == 5 {
                    let (name, tensor) = try Self.tensor(g.bytes)
                    found[name] = tensor
                }
            }
        } catch let error as Protobuf.Malformed {
            throw ModelError.badSourceModel(path: url.path, reason: "not an ONNX file (\(error.reason))")
        }
        tensors = found
    }

    /// TensorProto: dims = 1 (int64, packed or not), data_type = 2 (1 is FLOAT), name = 8, raw_data = 9.
    private static func tensor(_ bytes: ArraySlice<UInt8>) throws -> (String, Tensor) {
        var dims: [Int] = [], type = 0, name = "", raw: ArraySlice<UInt8> = []
        for f in try Protobuf.fields(bytes) {
            switch f.number {
            case 1 where f.wire == 2:
                var i = f.bytes.startIndex
                while i < f.bytes.endIndex { dims.append(Int(try Protobuf.varint(f.bytes, &i))) }
            case 1: dims.append(Int(f.value))
            case 2: type = Int(f.value)
            case 8: name = String(decoding: f.bytes, as: UTF8.self)
            case 9: raw = f.bytes
            default: break
            }
        }
        let count = dims.reduce(1, *)
        guard type == 1, raw.count == count * 4 else {
            throw Protobuf.Malformed(reason: "tensor \(name): data type \(type), \(raw.count) raw bytes for \(count) values")
        }
        let floats = raw.withUnsafeBytes { buf in
            (0..<count).map { Float(bitPattern: UInt32(littleEndian: buf.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        return (name, Tensor(dims: dims, floats: floats))
    }
}

/// Protobuf's wire format: a sequence of (field number, wire type, value) records.
enum Protobuf {
    struct Field {
        var number: Int
        var wire: Int
        /// Varint and fixed values.
        var value: UInt64
        /// Length-delimited payload (wire type 2).
        var bytes: ArraySlice<UInt8>
    }

    struct Malformed: Error { var reason: String }

    static func varint(_ b: ArraySlice<UInt8>, _ i: inout Int) throws -> UInt64 {
        var result: UInt64 = 0, shift: UInt64 = 0
        while true {
            guard i < b.endIndex, shift < 64 else { throw Malformed(reason: "truncated varint") }
            let byte = b[i]; i += 1
            result |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
    }

    static func fields(_ b: ArraySlice<UInt8>) throws -> [Field] {
        var out: [Field] = []
        var i = b.startIndex
        while i < b.endIndex {
            let key = try varint(b, &i)
            var f = Field(number: Int(key >> 3), wire: Int(key & 7), value: 0, bytes: [])
            switch f.wire {
            case 0: f.value = try varint(b, &i)
            case 1, 5:
                let n = f.wire == 1 ? 8 : 4
                guard i + n <= b.endIndex else { throw Malformed(reason: "truncated fixed field") }
                for k in 0..<n { f.value |= UInt64(b[i + k]) << (8 * UInt64(k)) }
                i += n
            case 2:
                let n = Int(try varint(b, &i))
                guard n >= 0, i + n <= b.endIndex else { throw Malformed(reason: "field \(f.number) runs past the end") }
                f.bytes = b[i..<(i + n)]
                i += n
            default: throw Malformed(reason: "wire type \(f.wire)")
            }
            out.append(f)
        }
        return out
    }
}
