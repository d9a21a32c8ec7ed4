import Foundation
import Testing
@testable import Engine

/// What a server says back passes through redaction before it can reach stderr, the summary or the store.
@Suite struct RedactionTests {
    @Test func theKeyAndAnyBearerTokenOrAuthorizationValueAreMasked() {
        let key = "sk-live/abc123XYZ"
        let echoed = #"{"error":"upstream","request_headers":{"Authorization":"Bearer sk-live\/abc123XYZ","X-Api-Key":"other-secret"}}"#
        let out = Redaction.redact(echoed, key: key)
        #expect(!out.contains("abc123XYZ") && !out.contains("other-secret"), "\(out)")
        #expect(out.contains("[redacted]"))
        #expect(Redaction.redact("Authorization: Bearer someone-elses-token", key: nil) == "Authorization: Bearer [redacted]")
        #expect(Redaction.redact("model gemma-3n not loaded", key: key) == "model gemma-3n not loaded")
    }

    @Test func errorBodiesAreCutToTheirReason() {
        #expect(HTTPTransport.shortReason(Data(#"{"error":{"message":"model not found","type":"x"}}"#.utf8)) == "model not found")
        #expect(HTTPTransport.shortReason(Data(#"{"detail":"Bad Request"}"#.utf8)) == "Bad Request")
        #expect(HTTPTransport.shortReason(Data("<html>\n<body>502 Bad Gateway</body>".utf8)) == "<html>")
        #expect(HTTPTransport.shortReason(Data(String(repeating: "x", count: 5000).utf8)).count == 200)
        #expect(HTTPTransport.shortReason(Data()) == "no reason given")
    }
}
