import HTTPCaching
import NIOConcurrencyHelpers
import NIOCore

/// One origin fetch that several requests for the same key share (request coalescing): the
/// first request's exchange fetches and publishes the response as it streams in; the others
/// subscribe and are answered from it, on their own event loops, while it is still arriving.
final class CacheFill: Sendable {
    /// What followers need to answer before the body has arrived.
    struct Head: Sendable {
        let status: Int
        /// The fields a stored copy will have (as a hit would send them).
        let fields: ByteBuffer
        /// nil when the origin's framing does not say (chunked, close-delimited).
        let contentLength: Int?
        /// The variant the response is for: a follower whose request selects another variant
        /// cannot use it.
        let vary: VarySelector
        let ttl: Int
    }

    enum Progress: Sendable {
        /// Nothing yet.
        case waiting
        /// The head, and the body chunks from the follower's position on; `complete` when the
        /// whole body has arrived.
        case streaming(Head, [ByteBuffer], complete: Bool)
        /// The leader could not share (not storable, failed, gone); followers that have not
        /// answered yet go to the origin themselves, the others close.
        case abandoned
    }

    private struct State {
        var head: Head?
        var chunks: [ByteBuffer] = []
        var complete = false
        var abandoned = false
        var subscribers: [Int: @Sendable () -> Void] = [:]
        var nextSubscriber = 0
    }

    let key: CacheKey
    private let state = NIOLockedValueBox(State())

    init(key: CacheKey) {
        self.key = key
    }

    // MARK: Leader

    func publishHead(_ head: Head) {
        notify(
            state.withLockedValue { state in
                state.head = head
                return Array(state.subscribers.values)
            })
    }

    func publishChunk(_ chunk: ByteBuffer) {
        guard chunk.readableBytes > 0 else { return }
        notify(
            state.withLockedValue { state in
                state.chunks.append(chunk)
                return Array(state.subscribers.values)
            })
    }

    func complete() {
        notify(
            state.withLockedValue { state in
                state.complete = true
                return Array(state.subscribers.values)
            })
    }

    /// No-op once complete: an exchange that ended well has nothing to withdraw.
    func abandon() {
        notify(
            state.withLockedValue { state in
                guard !state.complete, !state.abandoned else { return [] }
                state.abandoned = true
                return Array(state.subscribers.values)
            })
    }

    private func notify(_ subscribers: [@Sendable () -> Void]) {
        for subscriber in subscribers { subscriber() }
    }

    // MARK: Followers

    /// `notify` is called (from the leader's loop) whenever there is progress; it must hop to
    /// the follower's own loop.
    func subscribe(_ notify: @escaping @Sendable () -> Void) -> Int {
        state.withLockedValue { state in
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[id] = notify
            return id
        }
    }

    func unsubscribe(_ id: Int) {
        _ = state.withLockedValue { $0.subscribers.removeValue(forKey: id) }
    }

    var subscriberCount: Int { state.withLockedValue { $0.subscribers.count } }

    func progress(from chunkIndex: Int) -> Progress {
        state.withLockedValue { state in
            if state.abandoned { return .abandoned }
            guard let head = state.head else { return .waiting }
            let start = min(chunkIndex, state.chunks.count)
            return .streaming(head, Array(state.chunks[start...]), complete: state.complete)
        }
    }
}
