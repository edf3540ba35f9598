/// Wakes long polls: each queue (a commune's inbox, the hand-off) has a generation number that
/// rises when something is queued; a poll that found nothing waits for it to change or for its
/// time limit, whichever comes first. The store stays the truth; this only saves polling it.
actor WaitingSignal {
    private var generations: [String: UInt64] = [:]
    private var waiters: [String: [Int: CheckedContinuation<Void, Never>]] = [:]
    private var nextWaiter = 0

    func generation(_ queue: String) -> UInt64 { generations[queue, default: 0] }

    func bump(_ queue: String) {
        generations[queue, default: 0] &+= 1
        let woken = waiters.removeValue(forKey: queue) ?? [:]
        for continuation in woken.values { continuation.resume() }
    }

    /// Returns when `queue` has moved past `seen`, or after `timeout`.
    func wait(_ queue: String, seen: UInt64, timeout: Duration) async {
        guard generations[queue, default: 0] == seen else { return }
        let id = nextWaiter
        nextWaiter += 1
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            await self?.expire(queue, id)
        }
        await withCheckedContinuation { continuation in
            waiters[queue, default: [:]][id] = continuation
        }
        timer.cancel()
    }

    private func expire(_ queue: String, _ id: Int) {
        waiters[queue]?.removeValue(forKey: id)?.resume()
    }
}
