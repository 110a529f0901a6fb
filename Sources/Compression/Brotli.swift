import CBrotli

/// Brotli (RFC 7932) through Debian's libbrotli, one-shot: cached bodies are complete buffers.
public enum Brotli {
    /// Quality 5 compresses text within a few percent of 11 at a small fraction of its cost;
    /// the result is stored, so it is paid once per object.
    public static func compress(_ input: [UInt8], quality: Int32 = 5) -> [UInt8]? {
        var outputSize = BrotliEncoderMaxCompressedSize(input.count)
        guard outputSize > 0 else { return nil }
        var output = [UInt8](repeating: 0, count: outputSize)
        let ok = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                BrotliEncoderCompress(
                    quality, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT, source.count, source.baseAddress, &outputSize,
                    destination.baseAddress)
            }
        }
        guard ok == BROTLI_TRUE else { return nil }
        output.removeSubrange(outputSize...)
        return output
    }

    /// For tests and checks: the decoded bytes, or nil if the input is not valid brotli or
    /// decodes to more than `limit` bytes.
    public static func decompress(_ input: [UInt8], limit: Int = 64 << 20) -> [UInt8]? {
        guard let state = BrotliDecoderCreateInstance(nil, nil, nil) else { return nil }
        defer { BrotliDecoderDestroyInstance(state) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        return input.withUnsafeBufferPointer { source -> [UInt8]? in
            var availableIn = source.count
            var nextIn = source.baseAddress
            while true {
                var availableOut = chunk.count
                let result = chunk.withUnsafeMutableBufferPointer { destination -> BrotliDecoderResult in
                    var nextOut = destination.baseAddress
                    return BrotliDecoderDecompressStream(state, &availableIn, &nextIn, &availableOut, &nextOut, nil)
                }
                output += chunk[0..<(chunk.count - availableOut)]
                guard output.count <= limit else { return nil }
                switch result {
                case BROTLI_DECODER_RESULT_SUCCESS: return output
                case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT: continue
                default: return nil
                }
            }
        }
    }
}
