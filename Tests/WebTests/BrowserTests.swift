import Foundation
import Testing
@testable import Web

/// The page in a real browser: headless Chromium driven over WebDriver (chromedriver, no Selenium).
/// Search for a word of the transcript, open the first hit, and check the player landed on the hit's time
/// with the subtitles loaded, and that the sample (H.264/AAC in MP4) really plays. Leaves a screenshot.
@Suite struct BrowserTests {
    @Test func searchHitOpensThePlayerAtItsTime() async throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        let server = try await RunningServer.start(f)
        let artifacts = try artifactsFolder()
        let driver: WebDriver
        do {
            driver = try await WebDriver.start(log: artifacts.appendingPathComponent("chromedriver.log"))
        } catch {
            await server.stop()
            Issue.record("headless Chromium could not start: \(error)")
            return
        }
        do {
            try await check(f, server, driver, artifacts)
        } catch {
            Issue.record("\(error)")
        }
        await driver.quit()
        await server.stop()
    }

    func check(_ f: Fixture, _ server: RunningServer, _ driver: WebDriver, _ artifacts: URL) async throws {
        // What the search API says the first hit is.
        let api = try await server.get("/api/search?q=delta&limit=5")
        let hits = try JSONDecoder().decode(SearchAnswer.self, from: api.body).hits
        let first = try #require(hits.first, "no search hit for 'delta'")
        let start = try #require(first.start)
        #expect(first.jobID == f.narratedID)

        // The search page in the browser; its first result is that hit.
        try await driver.navigate(server.url.absoluteString + "search?q=delta")
        let link = try await driver.find("a.hit")
        let href = try await driver.attribute(link, "href") ?? ""
        #expect(href == "/video/\(first.jobID)?t=\(HTML.seconds(start))")
        try await driver.click(link)
        let now = try await driver.currentURL()
        #expect(now.hasSuffix(href), "clicking the hit opened \(now)")

        // The page seeks after loadedmetadata; `window.recapSeeked` is set by the player's `seeked` event.
        try await driver.waitUntil("the video to seek to ?t= (a `seeked` event)", """
            return typeof window.recapSeeked === 'number';
            """)
        let at = try await driver.execute("return document.getElementById('player').currentTime;") as? Double ?? -1
        #expect(abs(at - start) < 0.5, "currentTime \(at) for a hit at \(start)")

        // Subtitles: the default track is showing and its cues are loaded.
        try await driver.waitUntil("the WebVTT track to load its cues", """
            var t = document.getElementById('player').textTracks[0];
            return !!t && t.mode === 'showing' && !!t.cues && t.cues.length > 0;
            """)
        let cues = try await driver.execute("return document.getElementById('player').textTracks[0].cues.length;") as? Int ?? 0
        #expect(cues > 0)

        // It plays: H.264/AAC decodes in this Chromium (frames are shown and time moves on).
        _ = try await driver.execute("var v=document.getElementById('player'); v.muted=true; v.play(); return true;")
        try await driver.waitUntil("the video to play a second past the hit", """
            var v = document.getElementById('player');
            return !v.error && v.videoWidth > 0 && v.currentTime > \(start + 1.0);
            """)
        let facts = try await driver.execute("""
            var v = document.getElementById('player'); v.pause();
            var q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : {totalVideoFrames: -1};
            return {w: v.videoWidth, h: v.videoHeight, frames: q.totalVideoFrames, error: v.error ? v.error.code : 0,
                    active: v.textTracks[0].activeCues ? v.textTracks[0].activeCues.length : -1};
            """) as? [String: Any] ?? [:]
        #expect(facts["w"] as? Int == 320 && facts["h"] as? Int == 180, "\(facts)")
        #expect((facts["frames"] as? Int ?? 0) > 0, "decoded frames: \(facts)")
        #expect(facts["error"] as? Int == 0, "\(facts)")
        // Let the current transcript line's highlight settle, then keep a picture of the page.
        try await driver.waitUntil("a transcript line to be highlighted", "return !!document.querySelector('#transcript li.now');")
        let png = try await driver.screenshotPNG()
        let file = artifacts.appendingPathComponent("web-video-page.png")
        try png.write(to: file)
        print("screenshot: \(file.path)")
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))

        // The library too, for a look.
        try await driver.navigate(server.url.absoluteString)
        _ = try await driver.find(".card img")
        try await driver.waitUntil("the contact sheets to load", "return [].every.call(document.images, function(i){return i.complete;});")
        let libraryPNG = artifacts.appendingPathComponent("web-library-page.png")
        try await driver.screenshotPNG().write(to: libraryPNG)
        print("screenshot: \(libraryPNG.path)")
    }
}
