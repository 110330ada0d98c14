namespace StreamPersonalization.Core.Sessions;

/// <summary>
/// The not-yet-final sessions of one user: their events, sorted by event time.
/// </summary>
/// <remarks>
/// Sessions are defined canonically over the SET of a user's accepted events, so arrival order within
/// the grace period cannot change them: sort the events, start a session at the first, and let each
/// next event t join the current session iff <c>t - last &lt; Gap</c> and <c>t - start &lt; MaxLength</c>.
/// The first open session [s, e] becomes final once no acceptable future event (t ≥ watermark − Grace)
/// could join it, i.e. when <c>watermark ≥ min(e + Gap, s + MaxLength) + Grace</c>. Only the events of
/// open sessions are kept (24 bytes each), and none at all between sessions.
/// <code>
///   event ──▶ [open: buffered, may still merge/split] ──watermark ≥ due──▶ [closed: emitted, counted]
/// </code>
/// </remarks>
public sealed class OpenSessions
{
    private SessionEvent[]? _events;
    private int _count;

    public int BufferedEvents => _count;

    public ReadOnlySpan<SessionEvent> Events => _events.AsSpan(0, _count);

    /// <summary>Inserts in event-time order (after equal timestamps, so ties keep arrival order).</summary>
    public void Add(SessionEvent e)
    {
        if (_events is null) _events = new SessionEvent[4];
        else if (_count == _events.Length) Array.Resize(ref _events, _count * 2);
        var i = _count;
        while (i > 0 && _events[i - 1].TimestampMs > e.TimestampMs) { _events[i] = _events[i - 1]; i--; }
        _events[i] = e;
        _count++;
    }

    /// <summary>Event time at which the first open session becomes final; <see cref="long.MaxValue"/> if none is open.</summary>
    public long NextCloseDue(SessionOptions o)
    {
        if (_count == 0) return long.MaxValue;
        var n = FirstSessionLength(o);
        var start = _events![0].TimestampMs;
        var end = _events[n - 1].TimestampMs;
        return Math.Min(end + o.GapMs, start + o.MaxLengthMs) + o.GraceMs;
    }

    /// <summary>Closes every leading session that is final at <paramref name="watermarkMs"/>, in time order.</summary>
    public void CloseDue(long watermarkMs, SessionOptions o, List<ClosedSession> closed)
    {
        while (_count > 0 && NextCloseDue(o) <= watermarkMs)
        {
            var n = FirstSessionLength(o);
            closed.Add(ClosedSession.Of(_events.AsSpan(0, n)));
            Array.Copy(_events!, n, _events!, 0, _count - n);
            _count -= n;
        }
        if (_count == 0) _events = null;
        else if (_events!.Length > 16 && _count < _events.Length / 4) Array.Resize(ref _events, Math.Max(4, _count * 2));
    }

    private int FirstSessionLength(SessionOptions o)
    {
        var start = _events![0].TimestampMs;
        var last = start;
        var i = 1;
        for (; i < _count; i++)
        {
            var t = _events[i].TimestampMs;
            if (t - last >= o.GapMs || t - start >= o.MaxLengthMs) break;
            last = t;
        }
        return i;
    }

    /// <summary>Restores from serialized state (events already sorted).</summary>
    internal void Restore(SessionEvent[] events)
    {
        _events = events.Length == 0 ? null : events;
        _count = events.Length;
    }
}
