import Foundation

/// Validates JSON against the subset of JSON Schema (2020-12) that Recap's schemas use:
/// type, properties, required, additionalProperties, items, min/maxItems, min/maxLength,
/// minimum/maximum, enum, const, pattern, anyOf/oneOf, and local `$ref`s into `$defs`.
/// Unknown keywords are ignored, as the spec asks of validators.
public struct SchemaValidator: Sendable {
    public let root: JSON

    public init(schema: JSON) { self.root = schema }

    public init(contentsOf url: URL) throws {
        self.root = try JSON.parse(Data(contentsOf: url))
    }

    /// Every violation, each as "path: what is wrong". Empty means valid.
    public func errors(for value: JSON) -> [String] {
        var out: [String] = []
        check(value, against: root, at: "$", into: &out, depth: 0)
        return out
    }

    public func isValid(_ value: JSON) -> Bool { errors(for: value).isEmpty }

    private func resolve(_ ref: String) -> JSON? {
        guard ref.hasPrefix("#") else { return nil }
        var node: JSON? = root
        for part in ref.dropFirst().split(separator: "/") where !part.isEmpty {
            let key = part.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            node = node?[key]
        }
        return node
    }

    private func typeMatches(_ value: JSON, _ type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("number", .number), ("string", .string),
             ("array", .array), ("object", .object): return true
        case ("integer", .number(let d)): return d.rounded() == d
        default: return false
        }
    }

    private func check(_ value: JSON, against schema: JSON, at path: String, into out: inout [String], depth: Int) {
        guard depth < 64 else { out.append("\(path): schema nests too deeply (a $ref cycle?)"); return }
        if case .bool(let allowed) = schema {
            if !allowed { out.append("\(path): no value is allowed here") }
            return
        }
        guard let s = schema.object else { return }
        if let ref = s["$ref"]?.string {
            if let target = resolve(ref) { check(value, against: target, at: path, into: &out, depth: depth + 1) }
            else { out.append("\(path): unresolvable $ref \(ref)") }
        }
        if let t = s["type"] {
            let types = t.array?.compactMap(\.string) ?? [t.string].compactMap { $0 }
            if !types.isEmpty, !types.contains(where: { typeMatches(value, $0) }) {
                out.append("\(path): expected \(types.joined(separator: " or ")), got \(Self.kind(of: value))")
                return
            }
        }
        if let options = s["enum"]?.array, !options.contains(value) {
            out.append("\(path): \(value.text()) is not one of \(JSON.array(options).text())")
        }
        if let c = s["const"], c != value { out.append("\(path): must be \(c.text())") }
        for key in ["anyOf", "oneOf"] {
            if let options = s[key]?.array {
                let passing = options.filter { option in
                    var e: [String] = []
                    check(value, against: option, at: path, into: &e, depth: depth + 1)
                    return e.isEmpty
                }.count
                if passing == 0 || (key == "oneOf" && passing > 1) {
                    out.append("\(path): matches \(passing) of the \(key) alternatives")
                }
            }
        }
        switch value {
        case .string(let str):
            let n = str.count
            if let m = s["maxLength"]?.number, Double(n) > m { out.append("\(path): \(n) characters, at most \(Int(m)) allowed") }
            if let m = s["minLength"]?.number, Double(n) < m { out.append("\(path): \(n) characters, at least \(Int(m)) required") }
            if let p = s["pattern"]?.string, let re = try? NSRegularExpression(pattern: p),
               re.firstMatch(in: str, range: NSRange(str.startIndex..., in: str)) == nil {
                out.append("\(path): does not match /\(p)/")
            }
        case .number(let d):
            if let m = s["minimum"]?.number, d < m { out.append("\(path): \(d) is below the minimum \(m)") }
            if let m = s["maximum"]?.number, d > m { out.append("\(path): \(d) is above the maximum \(m)") }
        case .array(let items):
            if let m = s["maxItems"]?.number, Double(items.count) > m { out.append("\(path): \(items.count) items, at most \(Int(m)) allowed") }
            if let m = s["minItems"]?.number, Double(items.count) < m { out.append("\(path): \(items.count) items, at least \(Int(m)) required") }
            if let itemSchema = s["items"] {
                for (i, item) in items.enumerated() { check(item, against: itemSchema, at: "\(path)[\(i)]", into: &out, depth: depth + 1) }
            }
        case .object(let fields):
            for key in s["required"]?.array?.compactMap(\.string) ?? [] where fields[key] == nil {
                out.append("\(path): missing required property \"\(key)\"")
            }
            let props = s["properties"]?.object ?? [:]
            for (key, v) in fields.sorted(by: { $0.key < $1.key }) {
                if let p = props[key] { check(v, against: p, at: "\(path).\(key)", into: &out, depth: depth + 1) }
                else if let extra = s["additionalProperties"] {
                    if case .bool(false) = extra { out.append("\(path): unexpected property \"\(key)\"") }
                    else { check(v, against: extra, at: "\(path).\(key)", into: &out, depth: depth + 1) }
                }
            }
        default: break
        }
    }

    static func kind(of v: JSON) -> String {
        switch v {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
