import Foundation
import Testing
@testable import Engine

let summarySchema: JSONValue = [
    "type": "object",
    "additionalProperties": false,
    "required": ["title", "summary", "tags"],
    "properties": [
        "title": ["type": "string", "maxLength": 20],
        "summary": ["type": "string"],
        "tags": ["type": "array", "maxItems": 3, "items": ["type": "string", "enum": ["talk", "music", "demo"]]],
        "rating": ["type": "integer", "minimum": 1, "maximum": 5],
    ],
]

@Suite struct SchemaTests {
    let validator = JSONSchemaValidator(schema: summarySchema)

    @Test func validDocumentPasses() throws {
        let v = try JSONValue.parse(#"{"title":"Hi","summary":"A talk.","tags":["talk"],"rating":4}"#)
        #expect(validator.violations(of: v).isEmpty)
    }

    @Test func eachKeywordReportsItsPath() throws {
        let v = try JSONValue.parse(#"{"title":"This title is far too long","tags":["talk","jazz","demo","music"],"rating":7.5,"extra":1}"#)
        let messages = validator.violations(of: v).map(\.description)
        #expect(messages.contains { $0.hasPrefix("$: missing required property \"summary\"") })
        #expect(messages.contains { $0.hasPrefix("$.title:") && $0.contains("maxLength 20") })
        #expect(messages.contains { $0.hasPrefix("$.tags:") && $0.contains("maxItems 3") })
        #expect(messages.contains { $0.hasPrefix("$.tags[1]:") && $0.contains("must be one of") })
        #expect(messages.contains { $0.hasPrefix("$.rating:") && $0.contains("expected integer") })
        #expect(messages.contains { $0.contains("\"extra\" is not allowed") })
    }

    @Test func numericBoundsAndTypes() throws {
        #expect(!validator.isValid(try JSONValue.parse(#"{"title":"a","summary":"b","tags":[],"rating":0}"#)))
        #expect(!validator.isValid(try JSONValue.parse(#"{"title":"a","summary":"b","tags":[],"rating":6}"#)))
        #expect(!validator.isValid(try JSONValue.parse(#"{"title":1,"summary":"b","tags":[]}"#)))
        #expect(!validator.isValid(try JSONValue.parse(#"[1,2]"#)))
        let open = JSONSchemaValidator(schema: ["type": "object", "additionalProperties": ["type": "number"]])
        #expect(open.isValid(try JSONValue.parse(#"{"a":1,"b":2.5}"#)))
        #expect(!open.isValid(try JSONValue.parse(#"{"a":"x"}"#)))
    }

    @Test func maxLengthCountsCharactersNotBytes() throws {
        let s = JSONSchemaValidator(schema: ["type": "string", "maxLength": 3])
        #expect(s.isValid("日本語"))
        #expect(!s.isValid("日本語x"))
    }

    @Test func jsonValueRoundTripsThroughEncoder() throws {
        let tricky = #"He said "hi" \ and left"# + "\n\u{1F600}"
        let v: JSONValue = ["text": .string(tricky), "n": 3, "x": 0.5, "ok": true, "none": nil]
        let text = v.jsonString()
        #expect(text.contains(#""n":3"#))
        #expect(try JSONValue.parse(text) == v)
    }
}

@Suite struct RepairTests {
    @Test func closesATruncatedObjectAtTheLastCompleteMember() throws {
        let cut = #"{"title":"Hi","summary":"A talk about"#
        let closed = try #require(JSONRepair.closeTruncated(cut))
        #expect(try JSONValue.parse(closed) == ["title": "Hi"])
    }

    @Test func dropsDanglingKeysCommasAndPartialLiterals() throws {
        #expect(JSONRepair.closeTruncated(#"{"a":[1,2,"#) == #"{"a":[1,2]}"#)
        #expect(JSONRepair.closeTruncated(#"{"a":1,"b":"#) == #"{"a":1}"#)
        #expect(JSONRepair.closeTruncated(#"{"a":1,"b""#) == #"{"a":1}"#)
        #expect(JSONRepair.closeTruncated(#"{"a":tr"#) == #"{}"#)
        #expect(JSONRepair.closeTruncated(#"{"a":{"b":["x","y"#) == #"{"a":{"b":["x"]}}"#)
        #expect(JSONRepair.closeTruncated(#"{"a":"q\"uote"#) == #"{}"#)
        #expect(JSONRepair.closeTruncated("no json here") == nil)
    }

    @Test func extractsTheDocumentFromFencesAndProse() throws {
        #expect(JSONRepair.extractDocument("```json\n{\"a\":1}\n```") == #"{"a":1}"#)
        #expect(JSONRepair.closeTruncated(#"Sure! {"a":1} Hope this helps"#) == #"{"a":1}"#)
    }

    @Test func judgeAcceptsClosedOnlyWhenSchemaValid() throws {
        let schema: JSONValue = ["type": "object", "required": ["title"], "properties": ["title": ["type": "string"]]]
        if case .closed(let v, _) = StructuredOutput.judge(#"{"title":"A","notes":"cut h"#, schema: schema) {
            #expect(v == ["title": "A"])
        } else {
            Issue.record("expected a local close")
        }
        if case .invalid(let reason) = StructuredOutput.judge(#"{"tit"#, schema: schema) {
            #expect(reason.contains("missing required property \"title\""))
        } else {
            Issue.record("expected invalid")
        }
    }
}
