import Foundation

/// Converts Resemblyzer's `pretrained.pt` (PyTorch's legacy pickle format, not a zip) into a flat file the
/// Speech module's `VoiceEncoder` reads: magic "RCPGE2E1", a tensor count, then per tensor its name, its
/// dimensions and its float32 values, row-major, little-endian.
///
/// The reading is Python's own pickle module with the tensor constructors replaced by plain records, so no
/// torch (nor numpy) is needed: python3 is already there for the wheels. Only the weights the encoder uses
/// are written, in a fixed order (the training step and optimizer state are left behind).
public enum TorchLegacyConverter {
    static let tensors = (0..<3).flatMap { l in
        ["weight_ih", "weight_hh", "bias_ih", "bias_hh"].map { "lstm.\($0)_l\(l)" }
    } + ["linear.weight", "linear.bias"]

    public static func convert(checkpoint: URL, to output: URL) throws {
        let temp = output.deletingLastPathComponent().appendingPathComponent(".\(output.lastPathComponent).\(getpid()).tmp")
        defer { try? FileManager.default.removeItem(at: temp) }
        try Tools.run("python3", ["-c", script, checkpoint.path, temp.path, tensors.joined(separator: ",")])
        guard rename(temp.path, output.path) == 0 else {
            throw ModelError.writeFailed(path: output.path, reason: String(cString: strerror(errno)))
        }
    }

    static let script = #"""
import collections, pickle, struct, sys
source, target, names = sys.argv[1], sys.argv[2], sys.argv[3].split(",")

class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

def rebuild(storage, offset, size, stride, *rest):
    return Tensor(storage, offset, size, stride)

class Reader(pickle.Unpickler):
    def find_class(self, module, name):
        if name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return rebuild
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module.startswith("torch"):
            return name  # storage types and anything else torch: a label is enough
        raise pickle.UnpicklingError(f"unexpected class {module}.{name} in the checkpoint")
    def persistent_load(self, pid):
        kind, storage_type, key = pid[0], pid[1], pid[2]
        if kind != "storage" or storage_type != "FloatStorage":
            raise pickle.UnpicklingError(f"unsupported storage {pid[:2]}")
        return key

with open(source, "rb") as f:
    if pickle.load(f) != 0x1950a86a20f9469cfc6c:
        sys.exit("not a PyTorch legacy checkpoint")
    pickle.load(f); pickle.load(f)  # protocol version, system info
    checkpoint = Reader(f).load()
    keys = pickle.load(f)
    storages = {}
    for key in keys:
        (count,) = struct.unpack("<q", f.read(8))
        storages[key] = f.read(count * 4)

state = checkpoint["model_state"]
with open(target, "wb") as out:
    out.write(b"RCPGE2E1")
    out.write(struct.pack("<i", len(names)))
    for name in names:
        t = state[name]
        count = 1
        for d in t.size:
            count *= d
        contiguous = 1
        for d, s in zip(reversed(t.size), reversed(t.stride)):
            if s != contiguous:
                sys.exit(f"{name} is not contiguous")
            contiguous *= d
        data = storages[t.storage][t.offset * 4:(t.offset + count) * 4]
        encoded = name.encode()
        out.write(struct.pack("<i", len(encoded))); out.write(encoded)
        out.write(struct.pack("<i", len(t.size)))
        for d in t.size:
            out.write(struct.pack("<i", d))
        out.write(data)
"""#
}
