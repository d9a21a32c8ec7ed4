import Foundation

/// Converts Silero VAD's 16 kHz ONNX export (from the `silero-vad` wheel) into the ggml file whisper.cpp's
/// VAD reads (`whisper_vad_init_from_file_with_params`). The layout mirrors whisper.cpp's own
/// models/convert-silero-vad-to-ggml.py, which needs torch: a header with the architecture, then each tensor
/// with its dimensions fastest-first. Convolution weights are float16, everything else float32.
/// Checked byte for byte against whisper.cpp's for-tests-silero-v6.2.0-ggml.bin (only the version differs).
public enum SileroConverter {
    /// (ONNX initializer, stored as float16, squeeze to this many dimensions)
    static let tensors: [(name: String, f16: Bool)] = {
        var list: [(String, Bool)] = []
        for i in 0..<4 {
            list.append(("model.encoder.\(i).reparam_conv.weight", true))
            list.append(("model.encoder.\(i).reparam_conv.bias", false))
        }
        for n in ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] { list.append(("model.decoder.rnn.\(n)", false)) }
        list.append(("model.decoder.decoder.2.weight", true))
        list.append(("model.decoder.decoder.2.bias", false))
        list.append(("model.stft.forward_basis_buffer", true))
        return list
    }()

    /// Writes `output` atomically. `version` is the silero-vad release the weights come from.
    @discardableResult
    public static func convert(onnx: URL, version: (Int, Int, Int), to output: URL) throws -> Int {
        let source = try ONNXInitializers(url: onnx)
        let w = try GGMLFileWriter(destination: output)
        do {
            w.i32(0x6767_6d6c)  // "ggml"
            let kind = Array("silero-16k".utf8)
            w.i32(kind.count); w.raw(kind)
            w.i32(version.0); w.i32(version.1); w.i32(version.2)
            w.i32(512)  // window (samples)
            w.i32(64)   // context (samples)
            let channels = [(129, 128), (128, 64), (64, 64), (64, 128)]
            w.i32(channels.count)
            for (cin, cout) in channels { w.i32(cin); w.i32(cout); w.i32(3) }
            w.i32(128); w.i32(128)  // LSTM input, hidden
            w.i32(128); w.i32(1)    // final convolution in, out

            for (name, f16) in tensors {
                guard let t = source.tensors[name] else {
                    throw ModelError.badSourceModel(path: onnx.path, reason: "no tensor \(name): not a Silero VAD v5/v6 export")
                }
                // The STFT basis keeps all three dimensions; the others drop their size-1 ones (torch squeeze).
                let dims = name.hasSuffix("forward_basis_buffer") ? t.dims : t.dims.filter { $0 != 1 }
                let stored = "_" + name
                w.i32(dims.count); w.i32(stored.utf8.count); w.i32(f16 ? 1 : 0)
                for d in dims.reversed() { w.i32(d) }
                w.raw(Array(stored.utf8))
                if f16 {
                    let halves = t.floats.map { Float16($0).bitPattern.littleEndian }
                    halves.withUnsafeBytes { w.raw($0) }
                } else {
                    w.f32(t.floats)
                }
            }
            let size = w.bytesWritten
            try w.commit()
            return size
        } catch {
            w.abandon()
            throw error
        }
    }
}
