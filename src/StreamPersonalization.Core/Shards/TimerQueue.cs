namespace StreamPersonalization.Core.Shards;

/// <summary>
/// Event-time timers of a shard's entities, fired in (due, key) order so a replay fires them in the
/// same order. Entries are never removed early: an entity rescheduled to a later time leaves a stale
/// entry that is recognised and skipped when it pops (cheaper than a decrease-key heap).
/// </summary>
public sealed class TimerQueue
{
    private sealed class DueThenKey : IComparer<(long Due, string Key)>
    {
        public int Compare((long Due, string Key) a, (long Due, string Key) b)
        {
            var c = a.Due.CompareTo(b.Due);
            return c != 0 ? c : string.CompareOrdinal(a.Key, b.Key);
        }
    }

    private readonly PriorityQueue<string, (long Due, string Key)> _queue = new(new DueThenKey());

    public int Count => _queue.Count;

    public void Clear() => _queue.Clear();

    public void Schedule(string key, long dueMs) => _queue.Enqueue(key, (dueMs, key));

    /// <summary>Removes and returns the earliest entry if it is due at or before <paramref name="nowMs"/>.</summary>
    public bool TryPopDue(long nowMs, out string key, out long dueMs)
    {
        if (_queue.TryPeek(out key!, out var p) && p.Due <= nowMs)
        {
            _queue.Dequeue();
            dueMs = p.Due;
            return true;
        }
        key = null!;
        dueMs = 0;
        return false;
    }
}
