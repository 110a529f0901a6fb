import CHiredis

/// Encodes commands with hiredis's `redisFormatCommandArgv`: binary-safe arguments, RESP arrays
/// of bulk strings, as Redis expects requests.
public enum RESPEncoder {
    public struct EncodingError: Error {}

    public static func encode(_ arguments: [[UInt8]]) throws -> [UInt8] {
        var pointers: [UnsafePointer<CChar>?] = []
        var lengths: [Int] = []
        // Arguments must stay alive while hiredis reads them: copy each into one contiguous block.
        let total = arguments.reduce(0) { $0 + $1.count }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 1)
        defer { storage.deallocate() }
        guard let block = storage.baseAddress else { throw EncodingError() }
        var offset = 0
        for argument in arguments {
            argument.withUnsafeBytes { source in
                if let base = source.baseAddress, source.count > 0 {
                    (block + offset).copyMemory(from: base, byteCount: source.count)
                }
            }
            pointers.append(UnsafePointer((block + offset).assumingMemoryBound(to: CChar.self)))
            lengths.append(argument.count)
            offset += argument.count
        }
        var target: UnsafeMutablePointer<CChar>?
        let length = pointers.withUnsafeMutableBufferPointer { argv in
            lengths.withUnsafeBufferPointer { argvlen in
                redisFormatCommandArgv(&target, Int32(arguments.count), argv.baseAddress, argvlen.baseAddress)
            }
        }
        guard length >= 0, let target else { throw EncodingError() }
        defer { redisFreeCommand(target) }
        return Array(UnsafeRawBufferPointer(start: target, count: Int(length)))
    }

    public static func encode(_ arguments: [String]) throws -> [UInt8] {
        try encode(arguments.map { Array($0.utf8) })
    }
}
