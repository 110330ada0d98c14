using StreamPersonalization.Core.Events;

namespace StreamPersonalization.Core.Sessions;

/// <summary>What a session keeps of one event until the session closes (24 bytes).</summary>
public readonly record struct SessionEvent(long TimestampMs, double Value, EventType Type);

/// <summary>A finished session. <see cref="StartMs"/>/<see cref="EndMs"/> are the first and last event times.</summary>
public sealed record ClosedSession(long StartMs, long EndMs, int Events, int PageViews, int AddToCarts, int Purchases, double Revenue)
{
    public long DurationMs => EndMs - StartMs;

    public override string ToString() =>
        $"Session({DateTimeOffset.FromUnixTimeMilliseconds(StartMs):O}+{TimeSpan.FromMilliseconds(DurationMs)}, {Events} events, {Purchases} purchases)";

    /// <summary>Summarises a run of events (sorted by time) as one session.</summary>
    public static ClosedSession Of(ReadOnlySpan<SessionEvent> events)
    {
        int pageViews = 0, carts = 0, purchases = 0;
        double revenue = 0;
        foreach (var e in events)
        {
            switch (e.Type)
            {
                case EventType.PageView: pageViews++; break;
                case EventType.AddToCart: carts++; break;
                case EventType.Purchase: purchases++; revenue += e.Value; break;
            }
        }
        return new ClosedSession(events[0].TimestampMs, events[^1].TimestampMs, events.Length, pageViews, carts, purchases, revenue);
    }
}
