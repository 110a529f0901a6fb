import NIOCore
import NIOPosix
import NIOHTTP1
import ServiceLifecycle
import Atomics
import Logging
public enum GatewayServerPlaceholder {}
