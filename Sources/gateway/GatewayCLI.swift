import ArgumentParser
@main struct GatewayCLI: ParsableCommand { func run() {} }
