import XCTest

@testable import GatewayConfig

/// Parses YAML that is expected to be valid, failing the test with the diagnostics otherwise.
func parseValid(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> GatewayConfiguration? {
    switch ConfigLoader.parse(yaml: yaml, fileName: "gw.yaml", defaultNodeID: "test-host") {
    case .success(let config):
        return config
    case .failure(let errors):
        XCTFail("expected a valid config, got:\n\(errors)", file: file, line: line)
        return nil
    }
}

/// The `FILE:LINE: message` lines `gateway validate` would print for this YAML.
func problems(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
    switch ConfigLoader.parse(yaml: yaml, fileName: "gw.yaml", defaultNodeID: "test-host") {
    case .success:
        XCTFail("expected problems, but the config is valid", file: file, line: line)
        return []
    case .failure(let errors):
        return errors.diagnostics.map(\.description)
    }
}

/// A minimal valid file to splice a bad section into: line 1 is `listeners:`, lines 1-3 the listener.
let minimalListeners = """
    listeners:
      - name: main
        address: 127.0.0.1:8080
    """

/// One upstream named `app`, to append to `minimalListeners` for sections that need one.
let minimalUpstream = """

    upstreams:
      app: { endpoints: [{ address: 127.0.0.1:9001 }] }
    """
