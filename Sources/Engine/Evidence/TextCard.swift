import CTesseract
import Foundation

/// Draws black text on a white card and encodes it as JPEG (Leptonica's built-in bitmap font): a known image
/// with known on-screen text, for `recap engine check` and tests.
public enum TextCard {
    public static func jpeg(_ text: String, width: Int = 800, height: Int = 120) throws -> Data {
        var pix: OpaquePointer? = pixCreate(Int32(width), Int32(height), 8)
        guard pix != nil else { throw EngineError.ocrFailed("pixCreate failed") }
        defer { pixDestroy(&pix) }
        pixSetAllArbitrary(pix, 255)
        var font: OpaquePointer? = bmfCreate(nil, 20)
        guard font != nil else { throw EngineError.ocrFailed("Leptonica has no built-in font") }
        defer { bmfDestroy(&font) }
        var drawn: Int32 = 0
        var overflow: Int32 = 0
        guard pixSetTextline(pix, font, text, 0, 12, Int32(height / 2) + 8, &drawn, &overflow) == 0 else {
            throw EngineError.ocrFailed("cannot draw text")
        }
        // The bitmap font is small; doubling it gives text the height OCR and vision encoders read well.
        var big: OpaquePointer? = pixScale(pix, 2, 2)
        guard big != nil else { throw EngineError.ocrFailed("pixScale failed") }
        defer { pixDestroy(&big) }
        var bytes: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        guard pixWriteMem(&bytes, &size, big, RECAP_IFF_JFIF_JPEG) == 0, let bytes else {
            throw EngineError.ocrFailed("JPEG encoding failed")
        }
        defer { lept_free(bytes) }
        return Data(bytes: bytes, count: size)
    }
}
