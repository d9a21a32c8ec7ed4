import Foundation
import Store
import Testing
@testable import Web

/// `recap serve --review`: corrections from the video page go to the store, never over the model's output.
@Suite struct ReviewTests {
    @Test func correctionsArePostedFromTheOwnPageOnlyAndStoredBesideTheModelsAnswer() async throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        let server = try await RunningServer.start(f, review: true)
        let origin = "http://\(server.url.host!):\(server.url.port!)"
        let page = try await server.get("/video/\(f.narratedID)")
        #expect(page.text.contains("action=\"/video/\(f.narratedID)/corrections\""))
        #expect(page.text.contains("name=\"field\" value=\"title\""))

        let saved = try await server.post("/video/\(f.narratedID)/corrections",
                                          form: [("field", "title"), ("value", "How rivers build deltas <3")],
                                          headers: [("Origin", origin), ("Sec-Fetch-Site", "same-origin")])
        #expect(saved.status == 303)
        #expect(saved.header("location") == "/video/\(f.narratedID)?saved=1")
        let stored = try f.store.corrections(jobID: f.narratedID)
        #expect(stored.map(\.field) == ["title"])
        #expect(stored.first?.value == "How rivers build deltas <3")
        #expect(stored.first?.original == "River Deltas Lecture")
        let after = try await server.get("/video/\(f.narratedID)")
        #expect(after.text.contains("How rivers build deltas &lt;3"))
        #expect(!after.text.contains("deltas <3"))

        // Another site's page posting to this server, a field the result does not have, a job that does not exist.
        let forged = try await server.post("/video/\(f.narratedID)/corrections", form: [("field", "title"), ("value", "x")],
                                           headers: [("Origin", "http://evil.example"), ("Sec-Fetch-Site", "cross-site")])
        #expect(forged.status == 403)
        let unknown = try await server.post("/video/\(f.narratedID)/corrections", form: [("field", "../../etc"), ("value", "x")],
                                            headers: [("Origin", origin)])
        #expect(unknown.status == 400)
        let missing = try await server.post("/video/999999/corrections", form: [("field", "title"), ("value", "x")],
                                            headers: [("Origin", origin)])
        #expect(missing.status == 400)
        // Other writes stay refused.
        #expect(try await server.get("/files/\(f.narratedID)/json", method: .PUT).status == 405)
        await server.stop()

        #expect(try f.store.corrections(jobID: f.narratedID).count == 1)
        let model = try String(contentsOf: f.out.appendingPathComponent("talks/narrated.recap.json"), encoding: .utf8)
        #expect(model.contains("River Deltas Lecture") && !model.contains("How rivers build deltas"))
    }

    @Test func withoutReviewThereIsNoFormAndPostsAreRefused() async throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        let server = try await RunningServer.start(f)
        #expect(try await !server.get("/video/\(f.narratedID)").text.contains("/corrections"))
        let r = try await server.post("/video/\(f.narratedID)/corrections", form: [("field", "title"), ("value", "x")])
        #expect(r.status == 405)
        await server.stop()
        #expect(try f.store.corrections(jobID: f.narratedID).isEmpty)
    }
}
