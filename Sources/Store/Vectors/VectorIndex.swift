import Foundation

/// Every indexed text's vector in one flat array of half floats, searched exhaustively.
///
/// Why no approximate index (HNSW, IVF): an archive's passages number in the hundreds of thousands, a full
/// scan of 100k 384-dimension vectors takes milliseconds on one core, and an exhaustive scan is exact,
/// needs no tuning and no rebuild when a night's jobs add rows. `make bench` measures it at 1M.
public struct VectorIndex: Sendable {
    public let dimensions: Int
    /// The search entry each row came from, and its job (filters work on jobs).
    public private(set) var entryIDs: [Int64] = []
    public private(set) var jobIDs: [Int64] = []
    private var halves: [UInt16] = []

    public init(dimensions: Int) { self.dimensions = dimensions }

    public var count: Int { entryIDs.count }

    /// Adds a row from its stored bytes (little-endian halves); a vector of another length is skipped
    /// (it was made by another model under the same name) and reported by returning false.
    @discardableResult
    public mutating func append(entryID: Int64, jobID: Int64, halfFloatBytes data: Data) -> Bool {
        guard data.count == dimensions * 2 else { return false }
        data.withUnsafeBytes { raw in
            #if _endian(little)
            // The stored layout is the memory layout: one copy, no per-element work (this is most of a load).
            halves.append(contentsOf: raw.bindMemory(to: UInt16.self))
            #else
            for i in 0..<dimensions {
                halves.append(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
            }
            #endif
        }
        entryIDs.append(entryID)
        jobIDs.append(jobID)
        return true
    }

    public mutating func append(entryID: Int64, jobID: Int64, vector: [Float]) {
        precondition(vector.count == dimensions, "vector of \(vector.count) dimensions in a \(dimensions)-dimension index")
        halves += vector.map(HalfFloat.bits)
        entryIDs.append(entryID)
        jobIDs.append(jobID)
    }

    public mutating func reserveCapacity(_ rows: Int) {
        halves.reserveCapacity(rows * dimensions)
        entryIDs.reserveCapacity(rows)
        jobIDs.reserveCapacity(rows)
    }

    public struct Match: Sendable, Hashable {
        public var row: Int
        public var entryID: Int64
        public var jobID: Int64
        /// Cosine similarity (vectors are normalised, so the dot product).
        public var similarity: Float
    }

    /// The `limit` rows most similar to `query` with a similarity of at least `minimum`, best first.
    /// `allow` filters by row before ranking, so a filter never empties a result that has matches.
    public func nearest(to query: [Float], limit: Int, minimum: Float = -1, allow: ((Int) -> Bool)? = nil) -> [Match] {
        precondition(query.count == dimensions, "query of \(query.count) dimensions in a \(dimensions)-dimension index")
        guard limit > 0, count > 0 else { return [] }
        var best = TopK(capacity: limit, floor: minimum)
        let d = dimensions
        query.withUnsafeBufferPointer { q in
            halves.withUnsafeBufferPointer { h in
                for row in 0..<count {
                    if let allow, !allow(row) { continue }
                    var sum: Float = 0
                    let base = row * d
                    for j in 0..<d { sum += HalfFloat.value(h[base + j]) * q[j] }
                    best.offer(sum, row)
                }
            }
        }
        return best.sorted().map { Match(row: $0.row, entryID: entryIDs[$0.row], jobID: jobIDs[$0.row], similarity: $0.score) }
    }
}

/// The k best scores seen, in a small sorted array: k is a page of results (tens), so insertion beats a heap.
struct TopK {
    let capacity: Int
    private(set) var floor: Float
    private var items: [(score: Float, row: Int)] = []

    init(capacity: Int, floor: Float) {
        self.capacity = capacity
        self.floor = floor
        items.reserveCapacity(capacity + 1)
    }

    @inline(__always)
    mutating func offer(_ score: Float, _ row: Int) {
        guard score >= floor else { return }
        let at = items.firstIndex { $0.score < score } ?? items.count
        items.insert((score, row), at: at)
        if items.count > capacity {
            items.removeLast()
            floor = max(floor, items[items.count - 1].score)
        }
    }

    func sorted() -> [(score: Float, row: Int)] { items }
}
