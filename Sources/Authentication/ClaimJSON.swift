import Foundation

/// Decodes the JSON objects of tokens and identity-provider answers (nesting bounded).
public enum ClaimJSON {
    static let maxNesting = 16

    public static func object(_ bytes: [UInt8]) -> [String: ClaimValue]? {
        guard !ClaimValue.nestingExceeds(maxNesting, in: bytes) else { return nil }
        return try? JSONDecoder().decode([String: ClaimValue].self, from: Data(bytes))
    }
}
