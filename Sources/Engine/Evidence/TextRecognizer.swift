import CTesseract
import Foundation
import Media

/// On-screen text by OCR: Tesseract's LSTM engine through its C API, English model from Debian
/// (`tesseract-ocr-eng`). Words under a confidence floor are dropped, so textures and faces do not turn into
/// letter soup. One Tesseract handle, used by one caller at a time, and opened on first use: loading the
/// LSTM model costs ~100 ms and tens of MB, which a run that finds nothing to do must not pay.
public final class TextRecognizer: @unchecked Sendable {  // the handle is only touched under `lock`
    /// What OCR read on one image.
    public struct Result: Sendable, Hashable, Codable {
        /// Lines of recognised words, top to bottom.
        public var text: String
        /// Mean confidence (0–100) of the words kept.
        public var confidence: Double
        public var wordCount: Int
    }

    /// "tesseract-5.3.0-eng": part of the local engine's identity.
    public let modelName: String
    /// Words below this confidence (0–100) are dropped.
    public let minimumConfidence: Float
    private let lock = NSLock()
    private let dataPath: String
    private let language: String
    private var handle: OpaquePointer?  // nil until the first recognition; guarded by `lock`

    /// Opens Tesseract with `language` traineddata from `dataPath` (default: $TESSDATA_PREFIX or Debian's folder).
    public init(language: String = "eng", dataPath: String? = nil, minimumConfidence: Float = 60) throws {
        guard let path = dataPath ?? Self.findDataPath(language: language) else {
            throw EngineError.missingFile(path: "\(language).traineddata",
                                          hint: "install Debian's tesseract-ocr-\(language), or set TESSDATA_PREFIX")
        }
        self.dataPath = path
        self.language = language
        self.minimumConfidence = minimumConfidence
        self.modelName = "tesseract-\(String(cString: TessVersion()))-\(language)"
    }

    /// The Tesseract handle, created on first call. Caller holds `lock`.
    private func openHandle() throws -> OpaquePointer {
        if let handle { return handle }
        // Debian's Tesseract may use OpenMP: on 2 shared cores one thread per recognition is faster.
        setenv("OMP_THREAD_LIMIT", "1", 0)
        _ = setMsgSeverity(RECAP_LEPT_SEVERITY_NONE)  // no Leptonica chatter on a cron job's stderr
        guard let h = TessBaseAPICreate() else { throw EngineError.ocrFailed("TessBaseAPICreate returned nil") }
        guard TessBaseAPIInit3(h, dataPath, language) == 0 else {
            TessBaseAPIDelete(h)
            throw EngineError.ocrFailed("cannot load \(language).traineddata from \(dataPath)")
        }
        TessBaseAPISetPageSegMode(h, PSM_AUTO)
        // No debug files or stdout chatter from inside a CLI.
        TessBaseAPISetVariable(h, "debug_file", "/dev/null")
        handle = h
        return h
    }

    deinit {
        guard let handle else { return }
        TessBaseAPIEnd(handle)
        TessBaseAPIDelete(handle)
    }

    /// OCR of 8-bit grayscale pixels. Small frames are upscaled 2× first: Tesseract wants text ~20+ px tall.
    public func recognize(_ image: GrayImage) throws -> Result {
        guard image.width > 0, image.height > 0, image.pixels.count >= image.width * image.height else {
            throw EngineError.ocrFailed("grayscale buffer \(image.width)×\(image.height) with \(image.pixels.count) bytes is inconsistent")
        }
        let input = image.width < 960 ? Self.upscale2x(image) : image
        return try lock.withLock {
            let h = try openHandle()
            input.pixels.withUnsafeBufferPointer { p in
                TessBaseAPISetImage(h, p.baseAddress, Int32(input.width), Int32(input.height), 1, Int32(input.width))
            }
            TessBaseAPISetSourceResolution(h, 96)
            defer { TessBaseAPIClear(h) }
            return try Self.read(h, minimumConfidence: minimumConfidence)
        }
    }

    /// OCR of a JPEG (or PNG) in memory, decoded by Leptonica.
    public func recognize(jpeg: Data) throws -> Result {
        var pix: OpaquePointer? = jpeg.withUnsafeBytes { raw in
            pixReadMem(raw.bindMemory(to: UInt8.self).baseAddress, raw.count)
        }
        guard pix != nil else { throw EngineError.ocrFailed("the image data could not be decoded") }
        defer { pixDestroy(&pix) }
        return try lock.withLock {
            let h = try openHandle()
            TessBaseAPISetImage2(h, pix)
            TessBaseAPISetSourceResolution(h, 96)
            defer { TessBaseAPIClear(h) }
            return try Self.read(h, minimumConfidence: minimumConfidence)
        }
    }

    /// Walks the recognised words, keeping confident ones that contain a letter or digit, grouped in lines.
    private static func read(_ h: OpaquePointer, minimumConfidence: Float) throws -> Result {
        guard TessBaseAPIRecognize(h, nil) == 0 else { throw EngineError.ocrFailed("recognition failed") }
        guard let it = TessBaseAPIGetIterator(h) else { return Result(text: "", confidence: 0, wordCount: 0) }
        defer { TessResultIteratorDelete(it) }
        let page = TessResultIteratorGetPageIterator(it)
        var lines: [[String]] = []
        var current: [String] = []
        var confidences: [Float] = []
        repeat {
            if TessPageIteratorIsAtBeginningOf(page, RIL_TEXTLINE) != 0, !current.isEmpty {
                lines.append(current)
                current = []
            }
            guard let cWord = TessResultIteratorGetUTF8Text(it, RIL_WORD) else { continue }
            let word = String(cString: cWord).trimmingCharacters(in: .whitespacesAndNewlines)
            TessDeleteText(cWord)
            let conf = TessResultIteratorConfidence(it, RIL_WORD)
            guard conf >= minimumConfidence, word.unicodeScalars.contains(where: CharacterSet.alphanumerics.contains) else { continue }
            current.append(word)
            confidences.append(conf)
        } while TessResultIteratorNext(it, RIL_WORD) != 0
        if !current.isEmpty { lines.append(current) }
        let text = lines.map { $0.joined(separator: " ") }.joined(separator: "\n")
        let mean = confidences.isEmpty ? 0 : Double(confidences.reduce(0, +)) / Double(confidences.count)
        return Result(text: text, confidence: mean, wordCount: confidences.count)
    }

    static func findDataPath(language: String) -> String? {
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["TESSDATA_PREFIX"] { candidates.append(env) }
        candidates += ["/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata",
                       "/usr/share/tessdata", "/usr/local/share/tessdata"]
        return candidates.first { FileManager.default.fileExists(atPath: ($0 as NSString).appendingPathComponent("\(language).traineddata")) }
    }

    /// Bilinear 2× upscale.
    static func upscale2x(_ src: GrayImage) -> GrayImage {
        let w = src.width * 2, h = src.height * 2
        var out = [UInt8](repeating: 0, count: w * h)
        src.pixels.withUnsafeBufferPointer { s in
            for y in 0..<h {
                let sy = max(0, (Double(y) + 0.5) / 2 - 0.5)
                let y0 = min(Int(sy), src.height - 1), y1 = min(y0 + 1, src.height - 1)
                let fy = sy - Double(y0)
                for x in 0..<w {
                    let sx = max(0, (Double(x) + 0.5) / 2 - 0.5)
                    let x0 = min(Int(sx), src.width - 1), x1 = min(x0 + 1, src.width - 1)
                    let fx = sx - Double(x0)
                    let a = Double(s[y0 * src.width + x0]), b = Double(s[y0 * src.width + x1])
                    let c = Double(s[y1 * src.width + x0]), d = Double(s[y1 * src.width + x1])
                    let top = a + (b - a) * fx, bottom = c + (d - c) * fx
                    out[y * w + x] = UInt8(max(0, min(255, (top + (bottom - top) * fy).rounded())))
                }
            }
        }
        return GrayImage(width: w, height: h, pixels: out)
    }
}
