/// A FIFO between the decoding side and the inference side of a run. `send` waits while the buffer is
/// full, so a fast decoder cannot run ahead of the engine by more than `capacity` files (back-pressure,
/// bounded memory and bounded leases held).
actor BoundedChannel<Element: Sendable> {
    private var buffer: [Element] = []
    private let capacity: Int
    private var finished = false
    private var receivers: [CheckedContinuation<Element?, Never>] = []
    private var senders: [CheckedContinuation<Void, Never>] = []

    init(capacity: Int) { self.capacity = max(1, capacity) }

    func send(_ value: Element) async {
        while buffer.count >= capacity && !finished {
            await withCheckedContinuation { senders.append($0) }
        }
        if !receivers.isEmpty { receivers.removeFirst().resume(returning: value); return }
        buffer.append(value)
    }

    /// The next element, or nil once finished and drained.
    func receive() async -> Element? {
        if !buffer.isEmpty {
            let v = buffer.removeFirst()
            if !senders.isEmpty { senders.removeFirst().resume() }
            return v
        }
        if finished { return nil }
        return await withCheckedContinuation { receivers.append($0) }
    }

    func finish() {
        finished = true
        for r in receivers { r.resume(returning: nil) }
        receivers.removeAll()
        for s in senders { s.resume() }
        senders.removeAll()
    }

    /// Whatever is still buffered (on cancellation, so their leases can be released).
    func drain() -> [Element] { defer { buffer.removeAll() }; return buffer }
}

/// Hands out work items to any number of workers, each exactly once.
actor WorkQueue<Element: Sendable> {
    private var items: [Element]
    init(_ items: [Element]) { self.items = items.reversed() }
    func next() -> Element? { items.popLast() }
}
