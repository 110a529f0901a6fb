import GatewayConfig

/// A config file is operator input, but a reload reads whatever the file holds at that moment (a
/// half-written file, a bad merge): any bytes must give a configuration or diagnostics, never a
/// crash. A configuration that loads must also compile into a router.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    switch ConfigLoader.parse(yaml: text, fileName: "fuzz.yaml", defaultNodeID: "fuzz") {
    case .success(let configuration):
        let router = Router(routes: configuration.routes.map(\.match))
        _ = router.match(host: "example.test", path: "/", method: "GET", headers: NoHeaders())
    case .failure(let errors):
        // A failure that says nothing would leave the operator guessing.
        guard !errors.diagnostics.isEmpty else { fatalError("a rejected config without a diagnostic") }
    }
    return 0
}

struct NoHeaders: RouteHeaderLookup {
    func containsHeader(_ name: String) -> Bool { false }
    func containsHeader(_ name: String, value: String) -> Bool { false }
}
