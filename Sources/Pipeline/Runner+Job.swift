import Foundation
import Engine
import Media
import Store

// One job's way through the stages: the decoding side (claim, probe, frames and audio side by side, hear)
// hands a `Prepared` job over a bounded channel to the engine side (see, summarize, write, complete).
extension Runner {
    // MARK: - Decoding side

    func prepare(_ t: JobTicket, tally: Tally) async -> Prepared? {
        let claimed: ClaimedJob
        do {
            // A job still marked running when we claim it was left by a run that stopped without giving it back.
            let before = try? await store.job(t.jobID)
            guard let c = try await store.claim(jobID: t.jobID, owner: config.owner, leaseDuration: config.leaseSeconds) else {
                if let job = try? await store.job(t.jobID), job.state == .failed {
                    // An earlier attempt failed and its retry backoff has not elapsed yet.
                    let when = ISO8601DateFormatter().string(from: job.notBefore)
                    await record(failure: .init(path: t.file.relativePath, stage: nil,
                                                reason: "\(job.lastError ?? "failed earlier"); next retry after \(when)"), job: t.jobID, tally: tally)
                    return nil
                }
                await tally.update { $0.busyElsewhere += 1 }
                let holder = before.flatMap { j in j.leaseOwner.map { o in
                    " by \(o)\(j.leaseExpiresAt.map { ", lease until \(ISO8601DateFormatter().string(from: $0))" } ?? "")" } } ?? ""
                await progress.finished(job: t.jobID, file: t.file.relativePath, ok: true, mediaSeconds: 0, note: "(busy in another run\(holder))")
                return nil
            }
            claimed = c
            if let before, before.state == .running {
                let left = RunSummary.Failure(path: t.file.relativePath, stage: nil, reason: Self.leftBehind(before, resumedAt: c.checkpoints))
                await tally.update { $0.resumed.append(left) }
            }
        } catch {
            await record(failure: .init(path: t.file.relativePath, stage: nil, reason: "could not claim the job: \(error)"), job: t.jobID, tally: tally)
            return nil
        }
        let lease = claimed.lease
        let heartbeat = Task { [store] in
            var current = lease
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(lease.duration / 3 * 1e9))
                if Task.isCancelled { break }
                do {
                    current = try await store.heartbeat(current)
                } catch StoreError.leaseLost {
                    break  // another worker has the job: the next write of ours is refused, and the job dropped
                } catch {
                    continue  // the store did not answer (a restart, a network cut): keep beating; it may be back in time
                }
            }
        }
        let work = config.workRoot.appendingPathComponent("\(t.jobID)", isDirectory: true)
        var p = Prepared(lease: lease, jobID: t.jobID, file: t.file, fingerprint: claimed.job.fingerprint,
                         checkpoints: claimed.checkpoints, probe: RecapOutput.Probe(container: "", durationSeconds: 0, hasVideo: false, hasAudio: false),
                         frames: FrameSet(frames: [], sceneCuts: [], contactSheet: nil), transcript: nil, warnings: [], timings: [:],
                         workDir: work, heartbeat: heartbeat)
        do {
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            let url = t.file.url
            p.probe = try await stage(.probe, &p) { try await self.media.probe(url) }
            await progress.media(seconds: p.probe.durationSeconds)
            let probe = p.probe
            let ctx = StageContext(jobID: p.jobID, lease: p.lease, checkpoints: p.checkpoints, file: p.file.relativePath)
            // Frames (decode, scene detection, OCR) and audio → transcription share nothing: run them side by
            // side so the second core is busy while whisper or the scene detector works.
            async let framesDone: (FrameSet, Double) = runStage(.frames, ctx, valid: { (f: FrameSet) in
                f.frames.allSatisfy { FileManager.default.fileExists(atPath: work.appendingPathComponent($0.file).path) }
            }) {
                guard probe.hasVideo, self.spec.has(.frames) else { return FrameSet(frames: [], sceneCuts: [], contactSheet: nil) }
                return try await self.media.sampleFrames(url, settings: self.spec.frames, probe: probe, into: work.appendingPathComponent("frames"))
                    .relativized(to: work)
            }
            let hearing = self.hearing
            let wantsAudio = probe.hasAudio && spec.has(.audio) && hearing != nil
            let (audio, audioSeconds): (AudioSet, Double) = try await runStage(.audio, ctx, valid: { (a: AudioSet) in
                (a.clips ?? []).allSatisfy { FileManager.default.fileExists(atPath: work.appendingPathComponent($0.file).path) }
            }) {
                guard wantsAudio else { return AudioSet(clips: nil) }
                var set = try await self.media.extractAudio(url, clipSeconds: self.spec.audio.clipSeconds, into: work.appendingPathComponent("audio"))
                set.clips = set.clips?.map { var c = $0; c.file = Self.relative($0.file, to: work); return c }
                return set
            }
            let counter = counter(for: p.jobID)
            // What is on screen helps hear: the slides' words (and the file and folder names) prime the
            // recogniser, so transcription waits for the frames' OCR; audio extraction still overlaps it.
            let (frames, framesSeconds) = try await framesDone
            let folder = (t.file.relativePath as NSString).deletingLastPathComponent
            let hints = SpeechHints.make(ocrTexts: frames.frames.map(\.ocrText), fileName: url.lastPathComponent,
                                         folder: folder.isEmpty ? nil : (folder as NSString).lastPathComponent)
            let (heard, transcribeSeconds): (HeardAudio, Double) = try await runStage(.transcribe, ctx) {
                guard let clips = audio.clips, let hearing else { return HeardAudio(transcript: nil, warnings: []) }
                return try await hearing.run(clips, work: work, counter: counter, hints: hints)
            }
            p.frames = frames
            p.warnings += frames.warnings ?? []
            p.warnings += audio.warnings ?? []
            p.timings["frames"] = framesSeconds
            p.timings["audio"] = audioSeconds
            p.timings["transcribe"] = transcribeSeconds
            p.transcript = heard.transcript
            p.warnings += heard.warnings
            return p
        } catch {
            if await stopIfEngineGone(p, error, tally: tally) { return nil }
            await fail(p, error, tally: tally)
            return nil
        }
    }

    /// "left by recap@host:123:ab, a run that stopped at 2026-12-03T13:40:02Z (its last heartbeat); resumed after transcribe".
    static func leftBehind(_ job: Job, resumedAt checkpoints: [Store.Stage: Checkpoint]) -> String {
        let when = ISO8601DateFormatter().string(from: job.updatedAt)
        let done = Store.Stage.standard.last { checkpoints[$0] != nil }
        return "left by \(job.leaseOwner ?? "a run"), a run that stopped at \(when) (its last heartbeat); "
            + (done.map { "resumed after \($0.rawValue)" } ?? "started again from the beginning")
    }

    static func relative(_ path: String, to work: URL) -> String {
        let w = work.standardizedFileURL.path + "/"
        return path.hasPrefix(w) ? String(path.dropFirst(w.count)) : path
    }

    // MARK: - Engine side

    /// Returns true when the engine turned out to be unavailable (the run stops).
    func finish(_ prepared: Prepared, tally: Tally) async -> Bool {
        var p = prepared
        let snapshot = prepared
        do {
            let seen: SeenScenes = try await stage(.visual, &p) {
                try await SeeStage(engine: self.engine, describe: self.spec.has(.visual))
                    .run(snapshot.frames, duration: snapshot.probe.durationSeconds, work: snapshot.workDir, counter: self.counter(for: snapshot.jobID))
            }
            let scenes = seen.scenes
            let evidence = Evidence(fileName: p.file.url.lastPathComponent, probe: p.probe,
                                    segments: p.transcript?.segments ?? [], scenes: scenes, timeline: p.transcript?.timeline ?? [])
            let summary: SummaryCheckpoint = try await stage(.summarize, &p) {
                let o = try await Summarizer(spec: self.spec, engine: self.engine).run(evidence, counter: self.counter(for: snapshot.jobID))
                return SummaryCheckpoint(results: o.results, extract: o.extract, grounding: o.grounding,
                                         provenance: o.provenance, warnings: o.warnings, chunks: o.chunks, degraded: o.degraded)
            }
            let result = JobResult(file: p.file, fingerprint: p.fingerprint, probe: p.probe, frames: p.frames,
                                   transcript: p.transcript, scenes: scenes, summary: summary,
                                   warnings: p.warnings + seen.warnings, timings: p.timings, workDir: p.workDir)
            let writer = WriteStage(spec: spec, out: config.out, engine: engine.description, identity: identity.engine, ocrModel: media.ocrModel)
            let written: [String] = try await stage(.write, &p) { try writer.write(result) }
            try await store.replaceSearchEntries(p.lease, path: p.file.url.path, entries: writer.searchEntries(result), media: writer.searchMedia(result))
            let outputs = JSONValue.array(written.map { .string($0) }).data()
            if let degraded = summary.degraded {
                // The outputs stand (measured and extractive), but the model's part is asked for again by the next
                // run: its stages lose their checkpoints; the frames stay for it, the audio clips are not needed.
                try await store.complete(p.lease, result: outputs, degraded: degraded, redo: [.summarize, .write])
                p.heartbeat.cancel()
                try? FileManager.default.removeItem(at: p.workDir.appendingPathComponent("audio", isDirectory: true))
            } else {
                try await store.complete(p.lease, result: outputs)
                p.heartbeat.cancel()
                try? FileManager.default.removeItem(at: p.workDir)
            }
            let calls = (try? await store.engineCalls(jobID: p.jobID).values.reduce(0, +)) ?? 0
            let timings = p.timings
            let callsNow = counters.take(p.jobID)
            let seconds = p.probe.durationSeconds
            let degraded = summary.degraded.map { RunSummary.Failure(path: snapshot.file.relativePath, stage: "summarize", reason: $0) }
            await tally.update {
                if let degraded { $0.degraded.append(degraded) } else { $0.succeeded += 1 }
                $0.processed += 1; $0.outputs += written; $0.mediaSeconds += seconds
                $0.engineCalls += callsNow
                for (k, v) in timings { $0.stageSeconds[k, default: 0] += v }
            }
            await progress.finished(job: p.jobID, file: p.file.relativePath, ok: degraded == nil, mediaSeconds: p.probe.durationSeconds,
                                    note: degraded == nil ? "(\(calls) engine call\(calls == 1 ? "" : "s") in all)"
                                        : "degraded: no usable answer from the model; outputs are measured and extractive, the next run asks again")
            return false
        } catch {
            if await stopIfEngineGone(p, error, tally: tally) { return true }
            await fail(p, error, tally: tally)
            return false
        }
    }

    /// The engine is gone or refuses us: the job is given back untouched (its checkpoints stay), and the run
    /// stops with the engine's exit code.
    func stopIfEngineGone(_ p: Prepared, _ error: any Error, tally: Tally) async -> Bool {
        guard let gone = (error as? StageFailure)?.underlying as? EngineUnavailable else { return false }
        await abandon(p)
        await tally.update {
            if $0.engineUnavailable == nil { $0.engineUnavailable = gone.message; $0.engineExitCode = gone.exitCode }
        }
        return true
    }

    func counter(for job: Int64) -> EngineCallCounter { counters.counter(job) }
}
