// swift-tools-version:6.0
// A separate package (not part of the gateway's build): the SwiftNIO floor for proxying, see README.
import PackageDescription

let package = Package(
    name: "nio-floor",
    dependencies: [.package(url: "https://github.com/apple/swift-nio", exact: "2.101.3")],
    targets: [
        .executableTarget(
            name: "nio-relay",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ])
    ]
)
