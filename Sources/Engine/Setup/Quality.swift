import Foundation
import Models

/// The embedded default's language model, picked by what a run can afford. `make eval` measured the three
/// tiers on the project's own talks (fact recall, invented names, seconds per media minute): README has the table.
public enum Quality: String, Sendable, Codable, CaseIterable {
    /// SmolLM2-135M: fastest and smallest (98 MB); copies the evidence more than it summarizes it.
    case fast
    /// Qwen2.5-Coder-0.5B-Instruct: the default.
    case balanced
    /// Qwen2.5-Coder-1.5B-Instruct: the best titles and summaries, ~3× slower than balanced, ~2 GB resident.
    case best

    public static let `default` = Quality.balanced

    public var model: LocalModel {
        switch self {
        case .fast: .smollm2
        case .balanced: .qwenCoder05
        case .best: .qwenCoder15
        }
    }

    /// llama-server's context: SmolLM2 was trained on 8K but loops long before; the Qwen models take 32K, and
    /// 8K holds a one-hour talk's map step with room for the answer at little memory (KV cache ~100–230 MB).
    public var contextTokens: Int {
        switch self {
        case .fast: 4096
        case .balanced, .best: 8192
        }
    }
}
