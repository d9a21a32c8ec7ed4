import Foundation

/// The OpenAI chat-completions wire format, as Codable types: every body is built by `JSONEncoder`, so no model
/// or user string is ever pasted into JSON text.
enum ChatWire {
    struct Request: Encodable {
        var model: String?
        var messages: [Message]
        var max_tokens: Int
        var temperature: Double
        var seed: Int?
        var response_format: ResponseFormat?
        var stream = false
        /// llama.cpp only: reusing a cached prompt prefix changes the batch split, and with it the numerics,
        /// so the same request could answer differently; off, a request is repeatable.
        var cache_prompt: Bool?
    }

    struct Message: Encodable {
        var role: String
        var content: Content
    }

    enum Content: Encodable {
        case text(String)
        case parts([ContentPart])

        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .text(let s): try c.encode(s)
            case .parts(let p): try c.encode(p)
            }
        }
    }

    enum ContentPart: Encodable {
        case text(String)
        case imageURL(String)
        case inputAudio(base64: String, format: String)

        private enum Keys: String, CodingKey { case type, text, image_url, input_audio }
        private struct URLBox: Encodable { var url: String }
        private struct AudioBox: Encodable { var data: String; var format: String }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            switch self {
            case .text(let t):
                try c.encode("text", forKey: .type)
                try c.encode(t, forKey: .text)
            case .imageURL(let u):
                try c.encode("image_url", forKey: .type)
                try c.encode(URLBox(url: u), forKey: .image_url)
            case .inputAudio(let data, let format):
                try c.encode("input_audio", forKey: .type)
                try c.encode(AudioBox(data: data, format: format), forKey: .input_audio)
            }
        }
    }

    struct ResponseFormat: Encodable {
        var type = "json_schema"
        var json_schema: SchemaBox
        struct SchemaBox: Encodable {
            var name: String
            var schema: JSONValue
            var strict: Bool
        }
    }

    struct Response: Decodable {
        var choices: [Choice]
        var usage: Usage?
        var timings: Timings?
        var model: String?

        struct Choice: Decodable {
            var message: ResponseMessage?
            var finish_reason: String?
        }
        struct ResponseMessage: Decodable {
            var content: String?
        }
        struct Usage: Decodable {
            var prompt_tokens: Int?
            var completion_tokens: Int?
        }
        /// llama-server's own measurements.
        struct Timings: Decodable {
            var prompt_n: Int?
            var prompt_ms: Double?
            var prompt_per_second: Double?
            var predicted_n: Int?
            var predicted_ms: Double?
            var predicted_per_second: Double?
        }
    }

    struct Models: Decodable {
        var data: [Model]
        struct Model: Decodable { var id: String }
    }

    struct TokenizeRequest: Encodable {
        var content: String   // llama-server
        var prompt: String    // vLLM
        var model: String?
        var add_special = false
    }

    struct TokenizeResponse: Decodable {
        var tokens: [JSONValue]?
        var count: Int?
    }
}
