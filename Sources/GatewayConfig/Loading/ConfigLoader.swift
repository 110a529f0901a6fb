import Foundation
import Yams

/// Reads a config file into a validated `GatewayConfiguration`, or every problem in it.
/// Used by `gateway validate`, startup and SIGHUP reload; never on the request path.
public enum ConfigLoader {
    public static func load(
        path: String, defaultNodeID: String = ConfigLoader.hostName()
    ) -> Result<GatewayConfiguration, ConfigErrors> {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read file" : "no such file"
            return .failure(ConfigErrors(diagnostics: [ConfigDiagnostic(file: path, line: nil, message: reason)]))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            let problem = ConfigDiagnostic(file: path, line: nil, message: "file is not valid UTF-8")
            return .failure(ConfigErrors(diagnostics: [problem]))
        }
        return parse(yaml: text, fileName: path, defaultNodeID: defaultNodeID)
    }

    /// `fileName` only labels the diagnostics.
    public static func parse(
        yaml: String, fileName: String, defaultNodeID: String = ConfigLoader.hostName()
    ) -> Result<GatewayConfiguration, ConfigErrors> {
        var composer = YAMLComposer()
        let composed = composer.compose(yaml)
        var diagnostics = composer.problems.map { ConfigDiagnostic(file: fileName, line: $0.line, message: $0.message) }
        guard let composed else { return .failure(ConfigErrors(diagnostics: diagnostics)) }
        guard let root = composed.root else {
            diagnostics.append(
                ConfigDiagnostic(file: fileName, line: nil, message: "the file is empty; a config needs 'listeners'"))
            return .failure(ConfigErrors(diagnostics: diagnostics))
        }
        var reader = ConfigReader(file: fileName, defaultNodeID: defaultNodeID, ignoredKeys: composed.ignoredKeys)
        let configuration = reader.readConfiguration(root)
        diagnostics += reader.diagnostics
        if diagnostics.isEmpty, let configuration { return .success(configuration) }
        if diagnostics.isEmpty {
            // A reader returned nil without saying why; a bug, but never report success for it.
            diagnostics.append(ConfigDiagnostic(file: fileName, line: nil, message: "invalid configuration"))
        }
        return .failure(ConfigErrors(diagnostics: diagnostics))
    }

    /// The default `node.id`: the machine's host name, or "gateway" if it has none.
    public static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "gateway" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "gateway" : name
    }
}
