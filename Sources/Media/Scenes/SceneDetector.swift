import Foundation

/// A transition between two scenes as the detector reports it.
public struct SceneTransition: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// The picture changes from one frame to the next.
        case cut
        /// Through black (or white): the old shot darkens away, the new one comes up.
        case fade
        /// The old shot blends into the new one.
        case dissolve
    }
    public var kind: Kind
    /// Where the new scene starts: the first frame of a cut, the middle of a fade's black, the middle of a
    /// dissolve.
    public var time: Double
    /// The span of the transition (start == end == time for a cut).
    public var start: Double
    public var end: Double
    /// How sure: for a cut, the content change (0...1); for gradual transitions, the change between the
    /// pictures on either side.
    public var score: Double
}

/// Finds scene transitions in a stream of frame thumbnails, in one pass, in constant memory.
///
/// Decisions, each a known failure of a fixed threshold on frame differences:
/// - **Content** (`SceneMeasure.change`): brightness, colour and contrast-normalised structure, so cuts
///   between dark shots count.
/// - **Adaptive**: a cut must stand out against its neighbours (`ratio` times their mean change), so camera
///   motion, which changes every frame a lot, does not cut, while a quiet low-contrast cut does.
/// - **Persistence**: the pictures after a cut must differ from those before it. A flash (one or two frames
///   unlike both neighbours, which resemble each other) is not a cut.
/// - **Fades** through black or white: a run of flat frames with the picture fading out before it and in
///   after it is one transition (not two cuts, and not none).
/// - **Dissolves**: a frame that is the blend of the pictures a fraction of a second before and after it,
///   when those two differ, no single step between them is large, and the blend shows the contrast dip
///   of two unrelated pictures mixed.
///
/// Results come out with a delay of about `delay` seconds of media (what the decisions need to see ahead).
final class SceneDetector {
    struct Options {
        /// A cut's content change must reach this (0...1).
        var minChange: Float = 0.08
        /// ...and be this many times the mean change of the two frames on either side.
        var ratio: Float = 3
        /// Shortest scene in seconds; of two transitions closer than this, the stronger stays.
        var minSceneLength: Double = 0.6
    }

    private struct Entry {
        let index: Int
        let time: Double
        let thumb: SceneThumb
        /// Content change from the previous frame (0 for the first).
        let change: Float
    }

    private let options: Options
    /// Half-window of the dissolve test, in frames (about 0.6 s).
    private let w: Int
    private let keep: Int
    private var entries: [Entry] = []      // the last `keep` frames, oldest first
    private var count = 0
    private var pending: [SceneTransition] = []
    private let delay: Double
    private var dissolveRun: [(index: Int, quality: Float, score: Float)] = []
    // Fade state: the current run of flat frames, and the fade-in after it.
    private var flatRun: FlatRun? = nil
    private var fadeInFrom: Int? = nil
    private let fadeLimit: Double = 2.5

    init(options: Options = Options(), frameRate: Double) {
        self.options = options
        let fps = frameRate.isFinite && frameRate > 1 ? min(frameRate, 120) : 25
        w = max(6, min(30, Int((0.6 * fps).rounded())))
        keep = max(6 * w + 8, Int(fadeLimit * fps) + 8)
        delay = 1.2 + Double(3 * w) / fps
    }

    /// No transition earlier than this will be reported any more.
    private(set) var decidedUntil: Double = -.infinity

    /// Adds the next frame; returns the transitions that are now final, in time order.
    func push(_ thumb: SceneThumb, time: Double) -> [SceneTransition] {
        let change = entries.last.map { SceneMeasure.change($0.thumb, thumb) } ?? 0
        entries.append(Entry(index: count, time: time, thumb: thumb, change: change))
        count += 1
        if entries.count > keep { entries.removeFirst(entries.count - keep) }
        checkCut(at: count - 1 - 3)
        checkDissolve(at: count - 1 - 3 * w)
        trackFade(latest: count - 1, ended: false)
        // While a black run is open, its fade-out (already behind us) is not yet reported.
        return release(before: min(time - delay, flatRun?.outStart ?? .infinity))
    }

    /// The stream ended: decide what is left.
    func finish() -> [SceneTransition] {
        let last = count - 1
        if last >= 0 {
            for j in max(1, last - 2)...max(1, last) where j <= last { checkCut(at: j) }
            // (No dissolve can be centred in the last 3w frames: its test needs the frames after them.)
            trackFade(latest: last, ended: true)
        }
        endDissolveRun()
        return release(before: .infinity)
    }

    // MARK: - Cuts

    private func entry(_ i: Int) -> Entry? {
        guard let first = entries.first, i >= first.index, i < count else { return nil }
        return entries[i - first.index]
    }

    private func checkCut(at j: Int) {
        guard j >= 1, let e = entry(j), let before = entry(j - 1) else { return }
        let c = e.change
        guard c >= options.minChange, !(e.thumb.isFlat && before.thumb.isFlat) else { return }
        var around: [Float] = []
        for k in [j - 2, j - 1, j + 1, j + 2] { if k >= 1, let n = entry(k) { around.append(n.change) } }
        let mean = around.isEmpty ? 0 : around.reduce(0, +) / Float(around.count)
        // A very large change needs less contrast against its neighbours: a cut into a busy shot.
        let ratio = c / max(mean, 0.004)
        guard ratio >= options.ratio || (c >= 3 * options.minChange && ratio >= 2) else { return }
        // Persistence: every picture just after must differ from every picture just before.
        for a in (j - 3)...(j - 1) {
            guard let pa = entry(a) else { continue }
            for b in j...(j + 2) {
                guard let pb = entry(b) else { continue }
                if SceneMeasure.change(pa.thumb, pb.thumb) < 0.5 * c { return }
            }
        }
        pending.append(SceneTransition(kind: .cut, time: e.time, start: e.time, end: e.time, score: Double(c)))
    }

    // MARK: - Dissolves

    private func checkDissolve(at j: Int) {
        guard let mid = entry(j), let a = entry(j - w), let b = entry(j + w),
              !a.thumb.isFlat, !b.thumb.isFlat, !mid.thumb.isFlat else { return endDissolveRun() }
        let across = SceneMeasure.change(a.thumb, b.thumb)
        let coarse = SceneMeasure.coarseDistance(a.thumb, b.thumb)
        var biggestStep: Float = 0
        for k in (j - w + 1)...(j + w) { biggestStep = max(biggestStep, entry(k)?.change ?? 0) }
        guard across >= 1.5 * options.minChange, SceneMeasure.structure(a.thumb, b.thumb) >= 0.2,
              coarse > 0.02, biggestStep <= 0.4 * across,
              let q1 = entry(j - w / 2), let q3 = entry(j + w / 2) else { return endDissolveRun() }
        // A blend of two unrelated pictures has less contrast than either (a dip to about 0.7 of it at the
        // middle), and a dissolve changes the picture more than each shot changes by itself over the same
        // time; a zoom, a pan or an evolving pattern keeps its contrast and changes as much before and after.
        guard let pa = entry(j - 3 * w), let pb = entry(j + 3 * w) else { return endDissolveRun() }
        let own = max(SceneMeasure.change(pa.thumb, a.thumb), SceneMeasure.change(b.thumb, pb.thumb))
        let dip = mid.thumb.std / max(1e-6, (a.thumb.std + b.thumb.std) / 2)
        let residual = (SceneMeasure.blendResidual(mid.thumb, a.thumb, b.thumb, alpha: 0.5)
                        + SceneMeasure.blendResidual(q1.thumb, a.thumb, b.thumb, alpha: 0.25)
                        + SceneMeasure.blendResidual(q3.thumb, a.thumb, b.thumb, alpha: 0.75)) / 3
        let quality = residual / coarse
        let fine = SceneMeasure.fineResidual(mid.thumb, a.thumb, b.thumb, alpha: 0.5) / max(1e-6, SceneMeasure.luma(a.thumb, b.thumb))
        guard quality <= 0.35, fine <= 0.45, dip <= 0.8 || (dip <= 0.93 && across >= 1.1 * own) else { return endDissolveRun() }
        dissolveRun.append((j, quality, across))
    }

    private func endDissolveRun() {
        guard let best = dissolveRun.min(by: { $0.quality < $1.quality }) else { return }
        dissolveRun.removeAll()
        guard let centre = entry(best.index) else { return }
        // The span: out from the centre while the picture keeps changing, at most the test's window.
        let steps = ((best.index - 2)...(best.index + 2)).compactMap { entry($0)?.change }.sorted()
        let typical = steps.isEmpty ? 0 : steps[steps.count / 2]
        var lo = best.index, hi = best.index
        while lo > best.index - w, let e = entry(lo - 1), e.change >= 0.25 * typical { lo -= 1 }
        while hi < best.index + w, let e = entry(hi + 1), e.change >= 0.25 * typical { hi += 1 }
        let start = entry(lo - 1)?.time ?? centre.time, end = entry(hi)?.time ?? centre.time
        pending.append(SceneTransition(kind: .dissolve, time: centre.time, start: start, end: end, score: Double(best.score)))
    }

    // MARK: - Fades

    /// A run of black (or white) frames, with what came before it.
    private struct FlatRun {
        var first: Int, firstTime: Double
        var last: Int, lastTime: Double
        var white: Bool
        /// Where the fade-out began, and the picture just before it (to score the transition).
        var outStart: Double
        var before: SceneThumb?
        /// The picture just before the run, when the run began abruptly (no fade-out): a flash, or a cut
        /// through a flat frame.
        var abruptFrom: SceneThumb?
    }

    private func trackFade(latest i: Int, ended: Bool) {
        guard let e = entry(i) else { return }
        let flat = e.thumb.isBlack || e.thumb.isWhite
        if !ended && flat {
            if var run = flatRun, run.last == i - 1, run.white == e.thumb.isWhite, fadeInFrom == nil {
                run.last = i; run.lastTime = e.time
                flatRun = run
            } else {
                if let run = flatRun, fadeInFrom != nil { closeFade(run, fadeInEnd: i - 1) }
                flatRun = startRun(at: e)
                fadeInFrom = nil
            }
            return
        }
        guard let run = flatRun else { return }
        if fadeInFrom == nil {
            if ended { flatRun = nil; return }             // faded out at the end of the file: no next scene
            fadeInFrom = i
        }
        // The fade-in lasts while the picture keeps coming up.
        guard let from = fadeInFrom, let startTime = entry(from)?.time else { flatRun = nil; fadeInFrom = nil; return }
        let rising = i > from && (entry(i - 1).map { e.thumb.energy(towardWhite: run.white) > $0.thumb.energy(towardWhite: run.white) + 0.002 } ?? false)
        if ended || (i > from && !rising) || e.time - startTime > fadeLimit {
            closeFade(run, fadeInEnd: ended && rising ? i : max(from, i - 1))
        }
    }

    /// A flat run begins at `e`: find where the fade-out began, back while the picture was brighter (further
    /// from the flat colour), while those frames are still at hand.
    private func startRun(at e: Entry) -> FlatRun {
        let white = e.thumb.isWhite
        var outStart = e.index
        while let prev = entry(outStart - 1), let cur = entry(outStart), e.time - prev.time <= fadeLimit,
              prev.thumb.energy(towardWhite: white) > cur.thumb.energy(towardWhite: white) + 0.002 {
            outStart -= 1
        }
        return FlatRun(first: e.index, firstTime: e.time, last: e.index, lastTime: e.time, white: white,
                       outStart: entry(outStart)?.time ?? e.time, before: (entry(outStart - 1) ?? entry(outStart))?.thumb,
                       abruptFrom: abrupt(into: e.index, from: outStart, white: white))
    }

    /// The frame before the run at `first`, if it still had (nearly) the full picture: no real fade-out.
    private func abrupt(into first: Int, from outStart: Int, white: Bool) -> SceneThumb? {
        guard let last = entry(first - 1), let full = entry(outStart - 1) ?? entry(outStart) else { return nil }
        return last.thumb.energy(towardWhite: white) >= 0.8 * full.thumb.energy(towardWhite: white) ? last.thumb : nil
    }

    private func closeFade(_ run: FlatRun, fadeInEnd: Int) {
        flatRun = nil
        fadeInFrom = nil
        // A run that opens the file is a fade-in from black, not a transition between scenes.
        guard run.first > 0, let inEnd = entry(fadeInEnd) else { return }
        // A dip to black or a flash of white inside one shot comes back to the same picture: no new scene.
        let score = run.before.map { Double(SceneMeasure.change($0, inEnd.thumb)) } ?? 0
        guard score >= Double(options.minChange) else { return }
        // In and out at once (a camera flash, a frame of white): a transition only if the pictures either
        // side clearly differ; the frames right after it, not the end of any "fade-in", are the evidence,
        // since a moving shot keeps changing after the flash.
        if let from = run.abruptFrom, let after = entry(run.last + 1),
           after.thumb.energy(towardWhite: run.white) >= 0.8 * inEnd.thumb.energy(towardWhite: run.white),
           SceneMeasure.change(from, after.thumb) < 2 * options.minChange { return }
        if run.lastTime - run.firstTime > 2 {
            // A long black: a scene of its own, opened by the fade-out and closed by the fade-in.
            pending.append(SceneTransition(kind: .fade, time: run.firstTime, start: run.outStart, end: run.firstTime, score: score))
            pending.append(SceneTransition(kind: .fade, time: run.lastTime, start: run.lastTime, end: inEnd.time, score: score))
        } else {
            let middle = entry((run.first + run.last) / 2)?.time ?? run.firstTime
            pending.append(SceneTransition(kind: .fade, time: middle, start: run.outStart, end: inEnd.time, score: score))
        }
    }

    // MARK: - Merging

    /// Transitions that ended before `limit`, merged: a cut inside a fade or dissolve is part of it, and of
    /// two transitions closer than the shortest scene the stronger stays (gradual ones win over cuts).
    private func release(before limit: Double) -> [SceneTransition] {
        guard !pending.isEmpty else { decidedUntil = max(decidedUntil, limit); return [] }
        pending.sort { $0.time < $1.time }
        var merged: [SceneTransition] = []
        for t in pending {
            guard let prev = merged.last else { merged.append(t); continue }
            let overlaps = t.start <= prev.end + 0.2 && prev.start <= t.end + 0.2
            if overlaps || t.time - prev.time < options.minSceneLength {
                if rank(t) > rank(prev) { merged[merged.count - 1] = t }
            } else {
                merged.append(t)
            }
        }
        // Hold back the last one while something after it could still merge with it.
        var out: [SceneTransition] = []
        pending = []
        for t in merged {
            if t.end + options.minSceneLength + 0.2 < limit { out.append(t) } else { pending.append(t) }
        }
        decidedUntil = max(decidedUntil, min(limit, pending.first?.start ?? limit))
        return out
    }

    private func rank(_ t: SceneTransition) -> Double {
        switch t.kind {
        case .fade: return 3 + t.score
        case .dissolve: return 2 + t.score
        case .cut: return t.score
        }
    }
}
