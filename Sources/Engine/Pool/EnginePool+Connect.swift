import Foundation

extension EnginePool {
    /// Makes the pool after asking every server, at once, which models it serves (`/v1/models`):
    /// - all must serve the model (`--model`, else the first one the first answering server lists); a server
    ///   serving other models is refused by name, since its answers would be filed under the wrong model;
    /// - a refused API key (401/403) on any server stops here, as with one server;
    /// - a server that cannot be reached starts out cooling down, and its model is checked when it first
    ///   answers; when none can be reached, the first one's error is thrown (`unreachable`).
    public static func connect(configurations: [OpenAIConfiguration], policy: PoolPolicy = PoolPolicy()) async throws -> EnginePool {
        precondition(!configurations.isEmpty, "a pool needs at least one server")
        let configs = configurations.map { c -> OpenAIConfiguration in
            var c = c
            c.retriesConnectionFailures = false
            return c
        }
        let lists = await withTaskGroup(of: (Int, Result<[String]?, EngineError>).self) { group in
            for (i, config) in configs.enumerated() {
                group.addTask { (i, await servedModels(OpenAIEngine(configuration: config), named: !config.model.isEmpty)) }
            }
            var out = [Result<[String]?, EngineError>](repeating: .success(nil), count: configs.count)
            for await (i, r) in group { out[i] = r }
            return out
        }

        var down = Set<Int>()
        for (i, result) in lists.enumerated() {
            guard case .failure(let e) = result else { continue }
            if e.isServerFault { down.insert(i) } else { throw e }  // a refused key, a broken answer: fatal
        }
        if down.count == configs.count, case .failure(let first) = lists[0] { throw first }

        // The pool's model, and which server (or the flag) it came from.
        var model = configs[0].model
        var source = "--model"
        if model.isEmpty {
            for (i, result) in lists.enumerated() {
                if case .success(let names?) = result, let first = names.first {
                    model = first
                    source = configs[i].baseURL
                    break
                }
            }
        }
        guard !model.isEmpty else {
            throw EngineError.malformedResponse(url: configs[0].baseURL + "/models", reason: "no server lists a model; pass --model")
        }
        for (i, result) in lists.enumerated() {
            if case .success(let names?) = result, !names.contains(model) {
                throw EnginePoolError.modelMismatch(endpoint: configs[i].baseURL, serves: names, expected: model, from: source,
                                                    key: configs[i].apiKey)
            }
        }
        let members = configs.map { c -> OpenAIEngine in
            var c = c
            c.model = model
            return OpenAIEngine(configuration: c)
        }
        return EnginePool(members: members, policy: policy, model: model, downAtStart: down)
    }

    /// The models a server lists; nil when it has no list but a model is named (some servers lack
    /// `/v1/models`, and one that answered is there).
    private static func servedModels(_ probe: OpenAIEngine, named: Bool) async -> Result<[String]?, EngineError> {
        do {
            return .success(try await probe.listModels())
        } catch EngineError.httpStatus(_, let status, _) where named && status != 401 && status != 403 && status < 500 {
            return .success(nil)
        } catch let e as EngineError {
            return .failure(e)
        } catch {
            return .failure(.unreachable(server: probe.configuration.serverName, url: probe.configuration.baseURL, reason: "\(error)"))
        }
    }
}
