import Foundation

/// The pool's bookkeeping, without I/O or clocks of its own (the caller passes `now`), so it can be reasoned
/// about and tested as plain data: which server takes the next request, and what a result does to a server.
/// Not thread-safe by itself; `EnginePool` keeps it behind a lock.
struct EndpointBoard {
    enum State: Equatable {
        /// Takes requests.
        case healthy
        /// Failed; left alone until `until`, then the next request to reach it is a probe.
        case coolingDown(until: ContinuousClock.Instant)
        /// One request is trying the server after its cool-down; no other is sent until it answers.
        case probing
        /// Serves another model (found when it first answered after being down at start): never used again.
        case retired(reason: String)
    }

    struct Endpoint {
        var state: State = .healthy
        /// The model list is still to be checked (the server was down when the pool started).
        var unverified = false
        var outstanding = 0
        var coolDown: Duration
        /// Bumped at each ejection: a failure of a request sent before the ejection does not eject again.
        var epoch = 0
        var sent = 0
        var failures = 0
        var ejections = 0
    }

    /// One request's hold on one server; hand it back with `finish`.
    struct Ticket: Equatable {
        var index: Int
        var epoch: Int
        var probe: Bool
        /// The server's model must be checked before the request is sent.
        var verify: Bool
    }

    /// How a request on a server ended, as far as that server's health goes.
    enum Outcome {
        /// The server answered (whatever the answer): it is alive.
        case answered
        /// The server failed (see `EngineError.isServerFault`).
        case failed
        /// Nothing learnt (cancelled): a probe's turn goes to the next request.
        case abandoned
    }

    let policy: PoolPolicy
    private(set) var endpoints: [Endpoint]
    /// Where the search for the least-loaded server starts, so that ties take turns.
    private var cursor = 0

    init(count: Int, policy: PoolPolicy) {
        self.policy = policy
        endpoints = Array(repeating: Endpoint(coolDown: policy.initialCoolDown), count: count)
    }

    /// A server found down at start: cooling down, and its model checked when it first comes back.
    mutating func startDown(_ index: Int, now: ContinuousClock.Instant) {
        endpoints[index].unverified = true
        eject(index, now: now)
    }

    /// The server for the next request: among those that take requests and that `tried` did not already fail
    /// on, the one with the fewest requests outstanding; ties in turn. A server whose cool-down is over takes
    /// this request as its probe. Nil when no server is left.
    mutating func take(excluding tried: Set<Int>, now: ContinuousClock.Instant) -> Ticket? {
        var best: Int?
        for step in 0..<endpoints.count {
            let i = (cursor + step) % endpoints.count
            guard !tried.contains(i), isOpen(endpoints[i].state, now: now) else { continue }
            if best == nil || endpoints[i].outstanding < endpoints[best!].outstanding { best = i }
        }
        guard let i = best else { return nil }
        cursor = (i + 1) % endpoints.count
        let probe = endpoints[i].state != .healthy
        if probe { endpoints[i].state = .probing }
        endpoints[i].outstanding += 1
        endpoints[i].sent += 1
        return Ticket(index: i, epoch: endpoints[i].epoch, probe: probe, verify: endpoints[i].unverified)
    }

    /// A server this request has not tried is being probed: its answer may bring it back, so a request with no
    /// server left waits for that answer rather than giving up.
    func probeInFlight(excluding tried: Set<Int>) -> Bool {
        endpoints.indices.contains { !tried.contains($0) && endpoints[$0].state == .probing }
    }

    /// Hands a ticket back with what the server did.
    mutating func finish(_ ticket: Ticket, _ outcome: Outcome, now: ContinuousClock.Instant) {
        let i = ticket.index
        endpoints[i].outstanding -= 1
        guard ticket.epoch == endpoints[i].epoch else {
            // Sent before the server was taken out: its fate is already decided; only count the failure.
            if outcome == .failed { endpoints[i].failures += 1 }
            return
        }
        switch outcome {
        case .answered:
            if endpoints[i].state == .probing || endpoints[i].state == .healthy {
                endpoints[i].state = .healthy
                endpoints[i].coolDown = policy.initialCoolDown
            }
        case .failed:
            endpoints[i].failures += 1
            if endpoints[i].state == .healthy || endpoints[i].state == .probing { eject(i, now: now) }
        case .abandoned:
            if ticket.probe, endpoints[i].state == .probing { endpoints[i].state = .coolingDown(until: now) }
        }
    }

    /// The server's model was checked: it serves the pool's model.
    mutating func verified(_ index: Int) {
        endpoints[index].unverified = false
    }

    /// The server serves another model: out for good.
    mutating func retire(_ index: Int, reason: String) {
        endpoints[index].state = .retired(reason: reason)
        endpoints[index].epoch += 1
    }

    private mutating func eject(_ i: Int, now: ContinuousClock.Instant) {
        endpoints[i].state = .coolingDown(until: now + endpoints[i].coolDown)
        endpoints[i].coolDown = min(endpoints[i].coolDown * 2, policy.maxCoolDown)
        endpoints[i].epoch += 1
        endpoints[i].ejections += 1
    }

    private func isOpen(_ state: State, now: ContinuousClock.Instant) -> Bool {
        switch state {
        case .healthy: return true
        case .coolingDown(let until): return now >= until
        case .probing, .retired: return false
        }
    }
}
