namespace StreamPersonalization.Core.Shards;

/// <summary>
/// The event ids of one user's recently accepted events, so an at-least-once producer's re-send is dropped as
/// <c>duplicate_event</c>. Rule: an event is a duplicate iff an earlier accepted event of the same user carries the same
/// <c>event_id</c> and is still remembered; remembered are the accepted events whose event time is ≥ watermark − grace,
/// at most <c>capacity</c> of them — the largest by (event time, arrival).
/// </summary>
/// <remarks>
/// <para>Why this bound is enough: a byte-identical re-send has its original's event time, so if the original is older
/// than watermark − grace the re-send is rejected as <c>late_event</c> anyway. Only a user with more than
/// <c>capacity</c> accepted events within the grace period can see a re-send of an evicted one pass.</para>
/// <para>Eviction drops the smallest (event time, arrival). Because the watermark only grows, an entry outranked by
/// <c>capacity</c> others is pruned no earlier than they are, so the kept set always equals the <c>capacity</c>
/// largest still-valid entries whatever the pruning moments are: decisions do not depend on when pruning runs.</para>
/// <para>Ids are kept as 64-bit FNV-1a hashes (16 bytes per entry with the time); two different ids of one user within
/// one window collide with probability about n²/2⁶⁵ (n ≤ capacity), i.e. never in practice. Events without an
/// <c>event_id</c> get their source position as id and so are never duplicates.</para>
/// </remarks>
public sealed class EventIdWindow
{
    private (ulong Hash, long TsMs)[] _entries;
    private int _count;
    private long _minTsMs = long.MaxValue;   // smallest kept time: most prunes end at this one comparison

    public EventIdWindow(int initialCapacity = 4) => _entries = new (ulong, long)[Math.Max(1, initialCapacity)];

    public int Count => _count;

    public bool Contains(ulong hash)
    {
        for (var i = 0; i < _count; i++) if (_entries[i].Hash == hash) return true;
        return false;
    }

    /// <summary>Forgets entries with event time before <paramref name="minTsMs"/>, keeping arrival order.</summary>
    public void Prune(long minTsMs)
    {
        if (_minTsMs >= minTsMs) return;
        var kept = 0;
        _minTsMs = long.MaxValue;
        for (var i = 0; i < _count; i++)
        {
            if (_entries[i].TsMs < minTsMs) continue;
            _entries[kept++] = _entries[i];
            _minTsMs = Math.Min(_minTsMs, _entries[i].TsMs);
        }
        _count = kept;
    }

    /// <summary>Remembers an accepted event; when more than <paramref name="capacity"/> are kept, drops the smallest (event time, arrival).</summary>
    public void Add(ulong hash, long tsMs, int capacity)
    {
        if (_count == _entries.Length) Array.Resize(ref _entries, Math.Max(_count + 1, Math.Min(_count * 2, capacity + 1)));
        _entries[_count++] = (hash, tsMs);
        _minTsMs = Math.Min(_minTsMs, tsMs);
        while (_count > capacity)   // more than once only if the capacity was lowered since the state was written
        {
            var victim = 0;   // the first (earliest arrival) among the smallest times
            for (var i = 1; i < _count; i++) if (_entries[i].TsMs < _entries[victim].TsMs) victim = i;
            Array.Copy(_entries, victim + 1, _entries, victim, _count - victim - 1);
            _count--;
            _minTsMs = long.MaxValue;
            for (var i = 0; i < _count; i++) _minTsMs = Math.Min(_minTsMs, _entries[i].TsMs);
        }
    }

    /// <summary>64-bit FNV-1a taking one UTF-16 code unit per step: stable across processes (unlike string.GetHashCode).</summary>
    public static ulong Hash(string id)
    {
        var h = 0xcbf29ce484222325UL;
        foreach (var c in id) h = (h ^ c) * 0x100000001b3UL;
        return h;
    }

    /// <summary>Entries in arrival order (serialization and tests).</summary>
    public IEnumerable<(ulong Hash, long TsMs)> Entries => _entries.Take(_count);

    public void Write(BinaryWriter w)
    {
        w.Write(_count);
        for (var i = 0; i < _count; i++) { w.Write(_entries[i].Hash); w.Write(_entries[i].TsMs); }
    }

    /// <summary>Reads what <see cref="Write"/> wrote; null for an empty window (no memory kept for idle users).</summary>
    public static EventIdWindow? Read(BinaryReader r)
    {
        var n = r.ReadInt32();
        if (n == 0) return null;
        var window = new EventIdWindow(n);
        for (var i = 0; i < n; i++) window._entries[i] = (r.ReadUInt64(), r.ReadInt64());
        window._count = n;
        foreach (var (_, ts) in window.Entries) window._minTsMs = Math.Min(window._minTsMs, ts);
        return window;
    }

    public override string ToString() => $"EventIdWindow({_count} ids)";
}
