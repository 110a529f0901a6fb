import NIOCore

/// One event-loop timer for the request deadlines of all the streams of an HTTP/2 connection.
/// Each stream is a request with its own handler, so a timer per handler meant scheduling and
/// cancelling one NIO timer per request, and NIO finds a cancelled timer by a linear search of
/// its queue: with hundreds of streams in flight that search was a few percent of the CPU of an
/// HTTP/2 benchmark. Here a deadline is a dictionary entry, cancelling one removes the entry, and
/// the NIO timer is re-armed only when it fires or a deadline earlier than the armed one comes.
final class SharedDeadlineTimer {
    private var deadlines: [ObjectIdentifier: (deadline: NIODeadline, handler: ProxyHandler)] = [:]
    private var armed: (deadline: NIODeadline, task: Scheduled<Void>)?
    /// While due handlers run, new deadlines are only recorded; the timer is armed once after,
    /// for the earliest of all, so one handler's far deadline cannot hide another's near one.
    private var isFiring = false
    private var isStopped = false

    func schedule(_ handler: ProxyHandler, at deadline: NIODeadline, on eventLoop: EventLoop) {
        guard !isStopped, deadline != .distantFuture else {
            cancel(handler)
            return
        }
        deadlines[ObjectIdentifier(handler)] = (deadline, handler)
        if isFiring { return }
        if let armed, armed.deadline <= deadline { return }
        arm(at: deadline, on: eventLoop)
    }

    /// The armed NIO timer stays: when it fires with nothing due it re-arms for what is left, or
    /// for nothing.
    func cancel(_ handler: ProxyHandler) {
        deadlines.removeValue(forKey: ObjectIdentifier(handler))
    }

    /// The connection closed: its streams are gone, and the timer must not keep this alive.
    func stop() {
        isStopped = true
        armed?.task.cancel()
        armed = nil
        deadlines.removeAll()
    }

    private func arm(at deadline: NIODeadline, on eventLoop: EventLoop) {
        armed?.task.cancel()
        let task = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            self.fire(on: eventLoop)
        }
        armed = (deadline, task)
    }

    private func fire(on eventLoop: EventLoop) {
        armed = nil
        let now = NIODeadline.now()
        var due: [ProxyHandler] = []
        deadlines = deadlines.filter { _, entry in
            guard entry.deadline <= now else { return true }
            due.append(entry.handler)
            return false
        }
        isFiring = true
        for handler in due {
            handler.deadlineReached()
        }
        isFiring = false
        if !isStopped, let next = deadlines.values.map(\.deadline).min() {
            arm(at: next, on: eventLoop)
        }
    }
}
