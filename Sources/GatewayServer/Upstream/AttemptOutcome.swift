import GatewayConfig

/// How one attempt at an upstream endpoint ended, as far as breakers, outlier detection and
/// retries care.
enum AttemptOutcome: Equatable {
    /// A response head arrived.
    case response(status: Int)
    /// No connection (refused, unreachable, connect timeout): the request never left.
    case connectFailure
    /// No response head in time.
    case timeout
    /// The connection broke before a complete head, or the head was not HTTP.
    case reset

    func matches(_ conditions: FailureConditions) -> Bool {
        switch self {
        case .response(let status): conditions.matches(status: status)
        case .connectFailure: conditions.connectFailure
        case .timeout: conditions.timeout
        case .reset: conditions.reset
        }
    }

    /// Outlier detection counts 5xx responses and every failure the gateway saw itself.
    var isOutlierFailure: Bool {
        if case .response(let status) = self { return status >= 500 && status <= 599 }
        return true
    }
}

/// The endpoints one request has tried, so a retry goes somewhere else. A bit mask covers the
/// usual upstream; bigger ones spill into a list.
struct TriedEndpoints {
    private var mask: UInt64 = 0
    private var beyondMask: [Int] = []

    var isEmpty: Bool { mask == 0 && beyondMask.isEmpty }

    func contains(_ index: Int) -> Bool {
        index < 64 ? mask & (1 << UInt64(index)) != 0 : beyondMask.contains(index)
    }

    mutating func insert(_ index: Int) {
        if index < 64 {
            mask |= 1 << UInt64(index)
        } else if !beyondMask.contains(index) {
            beyondMask.append(index)
        }
    }

    mutating func removeAll() {
        mask = 0
        if !beyondMask.isEmpty { beyondMask.removeAll() }
    }
}
