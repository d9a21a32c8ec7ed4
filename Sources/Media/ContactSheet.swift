import Foundation

/// A grid of sampled frames with their timestamps drawn on them: the picture people look at before they
/// read any JSON. Tiles keep each frame's aspect inside a tileWidth x tileWidth box.
public enum ContactSheet {
    public static func render(_ frames: [SampledFrame], tileWidth: Int = 240, columns: Int? = nil,
                              quality: Int = 4) throws -> Data {
        guard !frames.isEmpty else { throw MediaError.invalidRequest("contact sheet: no frames to draw") }
        let cols = max(1, min(frames.count, columns ?? Int(Double(frames.count).squareRoot().rounded(.up))))
        let rows = (frames.count + cols - 1) / cols
        // Tile height from the tallest frame aspect, so portrait clips get portrait tiles.
        let maxAspect = frames.map { Double($0.height) / Double(max(1, $0.width)) }.max() ?? 0.5625
        let tileH = max(1, Int((Double(tileWidth) * min(maxAspect, 2.0)).rounded()))
        let gap = 6
        let W = cols * tileWidth + (cols + 1) * gap
        let H = rows * tileH + (rows + 1) * gap
        var sheet = RGBImage(width: W, height: H, fill: (24, 24, 24))
        for (i, f) in frames.enumerated() {
            let scale = min(Double(tileWidth) / Double(f.width), Double(tileH) / Double(f.height))
            let w = max(1, Int((Double(f.width) * scale).rounded())), h = max(1, Int((Double(f.height) * scale).rounded()))
            let tile = try JPEG.decodeRGB(f.jpeg, width: w, height: h)
            let x0 = gap + (i % cols) * (tileWidth + gap) + (tileWidth - w) / 2
            let y0 = gap + (i / cols) * (tileH + gap) + (tileH - h) / 2
            sheet.blit(tile, x: x0, y: y0)
            BitmapFont.draw(timestamp(f.time), on: &sheet, x: x0 + 3, y: y0 + h - 3 - BitmapFont.height * 2, scale: 2)
        }
        return try JPEG.encode(sheet, quality: quality)
    }

    /// "1:02:03.4" / "2:03.4" / "0:08.0".
    public static func timestamp(_ t: Double) -> String {
        let tenths = Int((max(0, t) * 10).rounded())
        let h = tenths / 36000, m = (tenths / 600) % 60, s = (tenths / 10) % 60, d = tenths % 10
        return h > 0 ? String(format: "%d:%02d:%02d.%d", h, m, s, d) : String(format: "%d:%02d.%d", m, s, d)
    }

    public static func write(_ frames: [SampledFrame], to url: URL, tileWidth: Int = 240) throws {
        try AtomicFile.write(render(frames, tileWidth: tileWidth), to: url)
    }
}

/// A 5x7 pixel font for digits and time punctuation: enough for timestamps without a font library.
enum BitmapFont {
    static let width = 5, height = 7
    static let glyphs: [Character: [UInt8]] = [
        "0": [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E], "1": [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        "2": [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F], "3": [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        "4": [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02], "5": [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        "6": [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E], "7": [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        "8": [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E], "9": [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        ":": [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00], ".": [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
    ]

    /// Draws white text on a black box with its top-left at (x, y).
    static func draw(_ text: String, on img: inout RGBImage, x: Int, y: Int, scale: Int) {
        let advance = (width + 1) * scale
        img.fillRect(x: x - scale, y: y - scale, w: text.count * advance + scale, h: (height + 2) * scale, color: (0, 0, 0))
        for (i, ch) in text.enumerated() {
            guard let rows = glyphs[ch] else { continue }
            for (r, bits) in rows.enumerated() {
                for c in 0..<width where bits & (1 << (width - 1 - c)) != 0 {
                    img.fillRect(x: x + i * advance + c * scale, y: y + r * scale, w: scale, h: scale, color: (255, 255, 255))
                }
            }
        }
    }
}
