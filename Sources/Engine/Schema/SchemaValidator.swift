import Foundation

/// Validates a JSON value against the JSON Schema (2020-12) subset Recap uses, both for model answers and
/// for the published output schema (`schemas/recap-output.v1.json`):
/// `type` (one or a list), `properties`, `required`, `additionalProperties` (bool or schema), `items`, `enum`,
/// `const`, `minLength`/`maxLength`, `pattern`, `minItems`/`maxItems`, `minimum`/`maximum`, `anyOf`, `oneOf`,
/// and local `$ref`s (`#/$defs/...`).
/// Unknown keywords are ignored (as JSON Schema says), so a richer published schema still works here.
public struct JSONSchemaValidator: Sendable {
    public let schema: JSONValue

    public init(schema: JSONValue) {
        self.schema = schema
    }

    /// One problem, with a JSON-pointer-like path ("$.chapters[2].title").
    public struct Violation: Sendable, Hashable, CustomStringConvertible {
        public var path: String
        public var message: String
        public var description: String { "\(path): \(message)" }
    }

    /// All violations (empty when valid).
    public func violations(of value: JSONValue) -> [Violation] {
        var out: [Violation] = []
        check(value, against: schema, path: "$", into: &out, depth: 0)
        return out
    }

    /// A local reference ("#/$defs/segment") resolved against the root schema.
    private func resolve(_ ref: String) -> JSONValue? {
        guard ref.hasPrefix("#") else { return nil }
        var node: JSONValue? = schema
        for part in ref.dropFirst().split(separator: "/") where !part.isEmpty {
            node = node?[part.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")]
        }
        return node
    }

    public func isValid(_ value: JSONValue) -> Bool { violations(of: value).isEmpty }

    private func check(_ value: JSONValue, against schema: JSONValue, path: String, into out: inout [Violation], depth: Int) {
        guard depth < 64 else {
            out.append(Violation(path: path, message: "the schema nests too deeply (a $ref cycle?)"))
            return
        }
        if case .bool(let allowed) = schema {
            if !allowed { out.append(Violation(path: path, message: "no value is allowed here")) }
            return
        }
        guard case .object(let s) = schema else { return }

        if let ref = s["$ref"]?.stringValue {
            if let target = resolve(ref) { check(value, against: target, path: path, into: &out, depth: depth + 1) }
            else { out.append(Violation(path: path, message: "unresolvable $ref \(ref)")) }
        }
        func passes(_ sub: JSONValue) -> Bool {
            var tmp: [Violation] = []
            check(value, against: sub, path: path, into: &tmp, depth: depth + 1)
            return tmp.isEmpty
        }
        if let anyOf = s["anyOf"]?.arrayValue, !anyOf.isEmpty, !anyOf.contains(where: passes) {
            out.append(Violation(path: path, message: "matches none of the allowed alternatives"))
        }
        if let oneOf = s["oneOf"]?.arrayValue, !oneOf.isEmpty {
            let n = oneOf.filter(passes).count
            if n != 1 { out.append(Violation(path: path, message: "matches \(n) of the oneOf alternatives, not exactly 1")) }
        }

        if let t = s["type"] {
            let types = t.arrayValue?.compactMap(\.stringValue) ?? [t.stringValue].compactMap { $0 }
            if !types.isEmpty, !types.contains(where: { Self.has(value, type: $0) }) {
                out.append(Violation(path: path, message: "expected \(types.joined(separator: " or ")), got \(Self.typeName(value))"))
                return  // the other keywords assume the type
            }
        }
        if let allowed = s["enum"]?.arrayValue, !allowed.contains(where: { Self.equal($0, value) }) {
            out.append(Violation(path: path, message: "must be one of \(JSONValue.array(allowed).jsonString())"))
        }
        if let c = s["const"], !Self.equal(c, value) {
            out.append(Violation(path: path, message: "must be \(c.jsonString())"))
        }

        switch value {
        case .string(let str):
            let n = str.count
            if let max = s["maxLength"]?.doubleValue, Double(n) > max {
                out.append(Violation(path: path, message: "is \(n) characters, more than maxLength \(Int(max))"))
            }
            if let min = s["minLength"]?.doubleValue, Double(n) < min {
                out.append(Violation(path: path, message: "is \(n) characters, fewer than minLength \(Int(min))"))
            }
            if let p = s["pattern"]?.stringValue {
                if let re = try? NSRegularExpression(pattern: p) {
                    if re.firstMatch(in: str, range: NSRange(str.startIndex..., in: str)) == nil {
                        out.append(Violation(path: path, message: "does not match the pattern /\(p)/"))
                    }
                } else {
                    out.append(Violation(path: path, message: "the schema's pattern /\(p)/ is not a valid regular expression"))
                }
            }
        case .number(let d):
            if let max = s["maximum"]?.doubleValue, d > max {
                out.append(Violation(path: path, message: "\(d) is above maximum \(max)"))
            }
            if let min = s["minimum"]?.doubleValue, d < min {
                out.append(Violation(path: path, message: "\(d) is below minimum \(min)"))
            }
        case .array(let items):
            if let max = s["maxItems"]?.doubleValue, Double(items.count) > max {
                out.append(Violation(path: path, message: "has \(items.count) items, more than maxItems \(Int(max))"))
            }
            if let min = s["minItems"]?.doubleValue, Double(items.count) < min {
                out.append(Violation(path: path, message: "has \(items.count) items, fewer than minItems \(Int(min))"))
            }
            if let itemSchema = s["items"] {
                for (i, item) in items.enumerated() {
                    check(item, against: itemSchema, path: "\(path)[\(i)]", into: &out, depth: depth + 1)
                }
            }
        case .object(let members):
            let props = s["properties"]?.objectValue ?? [:]
            for key in s["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where members[key] == nil {
                out.append(Violation(path: path, message: "missing required property \"\(key)\""))
            }
            for key in members.keys.sorted() {
                let member = members[key]!
                if let sub = props[key] {
                    check(member, against: sub, path: "\(path).\(key)", into: &out, depth: depth + 1)
                } else if let extra = s["additionalProperties"] {
                    if case .bool(false) = extra {
                        out.append(Violation(path: path, message: "property \"\(key)\" is not allowed"))
                    } else {
                        check(member, against: extra, path: "\(path).\(key)", into: &out, depth: depth + 1)
                    }
                }
            }
        default:
            break
        }
    }

    static func has(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("number", .number), ("string", .string),
             ("array", .array), ("object", .object):
            return true
        case ("integer", .number(let d)):
            return d.rounded() == d
        default:
            return false
        }
    }

    static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "boolean"
        case .number(let d): return d.rounded() == d ? "integer" : "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// JSON equality (1 and 1.0 are equal; object key order never matters).
    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool { a == b }
}
