import CFFmpeg
import Foundation

/// JPEG encoding and decoding with libavcodec's mjpeg codecs (no other image library needed).
public enum JPEG {
    /// Encodes an RGB picture. `quality` is the mjpeg quantiser scale: 2 (best) to 31 (smallest).
    public static func encode(_ image: RGBImage, quality: Int = 3) throws -> Data {
        let encoder = try MJPEGEncoder(width: image.width, height: image.height, quality: quality)
        return try encoder.encode(image)
    }

    /// Decodes a JPEG to RGB, optionally scaled to w x h.
    public static func decodeRGB(_ data: Data, width: Int? = nil, height: Int? = nil) throws -> RGBImage {
        let frame = try decodeFrame(data)
        let w = width ?? Int(frame.ptr.pointee.width), h = height ?? Int(frame.ptr.pointee.height)
        let px = try Scaler().convert(frame.ptr, dstW: w, dstH: h, dstFormat: AV_PIX_FMT_RGB24, bytesPerPixel: 3, path: "<jpeg>")
        return RGBImage(width: w, height: h, pixels: px)
    }

    /// Decodes a JPEG to 8-bit grayscale at its own size (what OCR wants).
    public static func decodeGray(_ data: Data) throws -> GrayImage {
        let frame = try decodeFrame(data)
        let w = Int(frame.ptr.pointee.width), h = Int(frame.ptr.pointee.height)
        let px = try Scaler().convert(frame.ptr, dstW: w, dstH: h, dstFormat: AV_PIX_FMT_GRAY8, bytesPerPixel: 1, path: "<jpeg>")
        return GrayImage(width: w, height: h, pixels: px)
    }

    static func decodeFrame(_ data: Data) throws -> Frame {
        let decoder = try MJPEGDecoder()
        let packet = Packet()
        var rc = av_new_packet(packet.ptr, Int32(data.count))
        if rc < 0 { throw MediaError.ffmpeg(path: "<jpeg>", operation: "allocate a packet", reason: FFmpegText.error(rc)) }
        data.withUnsafeBytes { raw in
            packet.ptr.pointee.data.update(from: raw.bindMemory(to: UInt8.self).baseAddress!, count: data.count)
        }
        rc = avcodec_send_packet(decoder.ctx, packet.ptr)
        if rc >= 0 { rc = avcodec_send_packet(decoder.ctx, nil) }
        let frame = Frame()
        if rc >= 0 { rc = avcodec_receive_frame(decoder.ctx, frame.ptr) }
        if rc < 0 { throw MediaError.ffmpeg(path: "<jpeg>", operation: "decode a JPEG", reason: FFmpegText.error(rc)) }
        return frame
    }
}

/// An mjpeg decoder context, freed in deinit.
final class MJPEGDecoder {
    let ctx: UnsafeMutablePointer<AVCodecContext>

    init() throws {
        FFmpegSetup.ensure()
        guard let codec = avcodec_find_decoder(AV_CODEC_ID_MJPEG), let c = avcodec_alloc_context3(codec) else {
            throw MediaError.unsupportedCodec(path: "<jpeg>", codec: "mjpeg")
        }
        ctx = c
        c.pointee.thread_count = 1
        let rc = avcodec_open2(c, codec, nil)
        if rc < 0 { throw MediaError.ffmpeg(path: "<jpeg>", operation: "open the JPEG decoder", reason: FFmpegText.error(rc)) }
    }

    deinit {
        var c: UnsafeMutablePointer<AVCodecContext>? = ctx
        avcodec_free_context(&c)
    }
}

/// An mjpeg encoder context for one picture size, plus the RGB -> YUVJ420P conversion it needs.
final class MJPEGEncoder {
    let ctx: UnsafeMutablePointer<AVCodecContext>
    let width: Int, height: Int
    private var sws: OpaquePointer?
    private let frame = Frame()
    private let packet = Packet()
    private var nextPts: Int64 = 0

    init(width: Int, height: Int, quality: Int) throws {
        FFmpegSetup.ensure()
        guard let codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG), let c = avcodec_alloc_context3(codec) else {
            throw MediaError.unsupportedCodec(path: "<jpeg>", codec: "mjpeg encoder")
        }
        ctx = c
        self.width = width; self.height = height
        c.pointee.width = Int32(width)
        c.pointee.height = Int32(height)
        c.pointee.pix_fmt = AV_PIX_FMT_YUVJ420P
        c.pointee.time_base = AVRational(num: 1, den: 25)
        c.pointee.color_range = AVCOL_RANGE_JPEG
        c.pointee.flags |= Int32(AV_CODEC_FLAG_QSCALE)
        c.pointee.global_quality = Int32(max(2, min(31, quality))) * recap_qp2lambda()
        c.pointee.thread_count = 1
        let rc = avcodec_open2(c, codec, nil)
        if rc < 0 { throw MediaError.ffmpeg(path: "<jpeg>", operation: "open the JPEG encoder", reason: FFmpegText.error(rc)) }
        sws = sws_getContext(Int32(width), Int32(height), AV_PIX_FMT_RGB24, Int32(width), Int32(height),
                             AV_PIX_FMT_YUVJ420P, SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nil, nil, nil)
        frame.ptr.pointee.format = AV_PIX_FMT_YUVJ420P.rawValue
        frame.ptr.pointee.width = Int32(width)
        frame.ptr.pointee.height = Int32(height)
        frame.ptr.pointee.color_range = AVCOL_RANGE_JPEG
        let rc2 = av_frame_get_buffer(frame.ptr, 0)
        if sws == nil || rc2 < 0 {
            throw MediaError.ffmpeg(path: "<jpeg>", operation: "prepare JPEG conversion", reason: FFmpegText.error(rc2))
        }
    }

    deinit {
        sws_freeContext(sws)
        var c: UnsafeMutablePointer<AVCodecContext>? = ctx
        avcodec_free_context(&c)
    }

    func encode(_ image: RGBImage) throws -> Data {
        precondition(image.width == width && image.height == height)
        av_frame_make_writable(frame.ptr)
        image.pixels.withUnsafeBufferPointer { buf in
            var src: [UnsafePointer<UInt8>?] = [buf.baseAddress, nil, nil, nil]
            var srcStride: [Int32] = [Int32(width * 3), 0, 0, 0]
            withUnsafeMutablePointer(to: &frame.ptr.pointee.data) { dp in
                dp.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { dst in
                    withUnsafePointer(to: &frame.ptr.pointee.linesize) { lp in
                        lp.withMemoryRebound(to: Int32.self, capacity: 8) { lines in
                            _ = sws_scale(sws, &src, &srcStride, 0, Int32(height), dst, lines)
                        }
                    }
                }
            }
        }
        // The encoder insists on increasing timestamps even for stills.
        frame.ptr.pointee.pts = nextPts
        nextPts += 1
        var rc = avcodec_send_frame(ctx, frame.ptr)
        if rc >= 0 { rc = avcodec_receive_packet(ctx, packet.ptr) }
        if rc < 0 { throw MediaError.ffmpeg(path: "<jpeg>", operation: "encode a JPEG", reason: FFmpegText.error(rc)) }
        defer { packet.unref() }
        return Data(bytes: packet.ptr.pointee.data, count: Int(packet.ptr.pointee.size))
    }
}
