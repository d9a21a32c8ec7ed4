import Foundation

/// The mel filterbank whisper.cpp stores in its model header: what librosa.filters.mel(sr=16000, n_fft=400,
/// n_mels=80) returns, i.e. the Slaney mel scale (linear below 1 kHz, logarithmic above) with Slaney area
/// normalisation (each triangle scaled by 2 / its width in Hz). Computed in Double, stored as Float.
public enum MelFilterbank {
    public static func slaney(sampleRate: Double = 16000, nFFT: Int = 400, nMels: Int = 80) -> [[Float]] {
        let bins = nFFT / 2 + 1
        let fftFreqs = (0..<bins).map { Double($0) * sampleRate / Double(nFFT) }
        let melMin = hzToMel(0), melMax = hzToMel(sampleRate / 2)
        // nMels + 2 points equally spaced in mel: each filter spans three neighbours.
        let melPoints = (0..<(nMels + 2)).map { i in
            melToHz(melMin + (melMax - melMin) * Double(i) / Double(nMels + 1))
        }
        var filters: [[Float]] = []
        for m in 0..<nMels {
            let lo = melPoints[m], mid = melPoints[m + 1], hi = melPoints[m + 2]
            let norm = 2.0 / (hi - lo)
            filters.append(fftFreqs.map { f in
                let rising = (f - lo) / (mid - lo)
                let falling = (hi - f) / (hi - mid)
                return Float(max(0, min(rising, falling)) * norm)
            })
        }
        return filters
    }

    // Slaney's scale: 3 mels per 200 Hz up to 1 kHz, then 27 mels per factor of 6.4.
    private static let fSp = 200.0 / 3
    private static let minLogHz = 1000.0
    private static let minLogMel = minLogHz / fSp
    private static let logStep = log(6.4) / 27

    static func hzToMel(_ hz: Double) -> Double {
        hz < minLogHz ? hz / fSp : minLogMel + log(hz / minLogHz) / logStep
    }

    static func melToHz(_ mel: Double) -> Double {
        mel < minLogMel ? mel * fSp : minLogHz * exp(logStep * (mel - minLogMel))
    }
}
