import Foundation

/// A read-only view of a CTranslate2 `model.bin`: named variables with a dtype, a shape and a byte range.
///
/// Layout (little-endian): u32 binary version (≥ 2 here), a string spec name, u32 spec revision,
/// u32 variable count, then per variable: string name, u8 rank, u32 × rank dims, u8 dtype, u32 byte count,
/// the bytes; then (version ≥ 3) u32 alias count and (alias, target) string pairs. Strings are a u16 length
/// that counts a trailing NUL. The file is memory-mapped: nothing is copied until a variable is read.
struct CTranslate2Model {
    enum DType: UInt8 {
        case float32 = 0, int8 = 1, int16 = 2, int32 = 3, float16 = 4, bfloat16 = 5
        var size: Int {
            switch self {
            case .float32, .int32: return 4
            case .int8: return 1
            case .int16, .float16, .bfloat16: return 2
            }
        }
    }

    struct Variable {
        var name: String
        var shape: [Int]
        var dtype: DType
        var range: Range<Int>
        var count: Int { shape.reduce(1, *) }
    }

    let path: String
    let data: Data
    let specName: String
    let binaryVersion: UInt32
    private(set) var variables: [String: Variable] = [:]
    private(set) var aliases: [String: String] = [:]

    init(url: URL) throws {
        path = url.path
        data = try ModelError.mappedSource(url)
        var r = ByteReader(data: data, path: url.path)
        binaryVersion = try r.u32()
        guard (2...6).contains(binaryVersion) else {
            throw ModelError.badSourceModel(path: path, reason: "unsupported binary version \(binaryVersion)")
        }
        specName = try r.string()
        _ = try r.u32()  // spec revision
        let n = try r.u32()
        for _ in 0..<n {
            let name = try r.string()
            let rank = Int(try r.u8())
            var shape: [Int] = []
            for _ in 0..<rank { shape.append(Int(try r.u32())) }
            let rawType = try r.u8()
            guard let dtype = DType(rawValue: rawType) else {
                throw ModelError.badSourceModel(path: path, reason: "variable \(name) has unknown dtype \(rawType)")
            }
            let bytes = Int(try r.u32())
            let expected = shape.reduce(1, *) * dtype.size
            guard bytes == expected else {
                throw ModelError.badSourceModel(path: path, reason: "variable \(name): \(bytes) bytes for shape \(shape)")
            }
            let start = r.offset
            try r.skip(bytes)
            variables[name] = Variable(name: name, shape: shape, dtype: dtype, range: start..<(start + bytes))
        }
        if binaryVersion >= 3, r.remaining >= 4 {
            let na = try r.u32()
            for _ in 0..<na {
                let alias = try r.string()
                aliases[alias] = try r.string()
            }
        }
    }

    /// The variable called `name` (following aliases), or a typed error naming it.
    func variable(_ name: String) throws -> Variable {
        if let v = variables[name] ?? aliases[name].flatMap({ variables[$0] }) { return v }
        throw ModelError.badSourceModel(path: path, reason: "no variable \(name)")
    }

    /// A scalar integer variable (e.g. `encoder/num_heads`).
    func scalar(_ name: String) throws -> Int {
        let v = try variable(name)
        guard v.count == 1 else { throw ModelError.badSourceModel(path: path, reason: "\(name) is not a scalar") }
        return data.withUnsafeBytes { raw -> Int in
            switch v.dtype {
            case .int8: return Int(raw.load(fromByteOffset: v.range.lowerBound, as: Int8.self))
            case .int16: return Int(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: v.range.lowerBound, as: Int16.self)))
            case .int32: return Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: v.range.lowerBound, as: Int32.self)))
            default: return -1
            }
        }
    }
}

/// Little-endian cursor over bytes with bounds checks that name the file.
struct ByteReader {
    let data: Data
    let path: String
    var offset: Int

    init(data: Data, path: String) {
        self.data = data
        self.path = path
        offset = data.startIndex
    }

    var remaining: Int { data.endIndex - offset }

    private mutating func need(_ n: Int) throws {
        guard n <= remaining else {
            throw ModelError.badSourceModel(path: path, reason: "truncated at byte \(offset - data.startIndex)")
        }
    }

    mutating func u8() throws -> UInt8 {
        try need(1)
        defer { offset += 1 }
        return data[offset]
    }

    mutating func u16() throws -> UInt16 {
        try need(2)
        defer { offset += 2 }
        return data.withUnsafeBytes { UInt16(littleEndian: $0.loadUnaligned(fromByteOffset: offset - data.startIndex, as: UInt16.self)) }
    }

    mutating func u32() throws -> UInt32 {
        try need(4)
        defer { offset += 4 }
        return data.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: offset - data.startIndex, as: UInt32.self)) }
    }

    mutating func string() throws -> String {
        let n = Int(try u16())
        try need(n)
        defer { offset += n }
        let bytes = data[offset..<(offset + n)]
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    mutating func skip(_ n: Int) throws {
        try need(n)
        offset += n
    }
}
