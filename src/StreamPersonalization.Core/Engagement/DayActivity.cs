using StreamPersonalization.Core.Events;

namespace StreamPersonalization.Core.Engagement;

/// <summary>
/// Exact counts of one user's activity on one UTC day (32 bytes). Counters saturate at 65,535 rather
/// than wrap: a bot doing more than that in a day is still "very active". <see cref="SessionSeconds"/> sums the
/// lengths of the sessions that started that day (cohort metrics' average session duration).
/// </summary>
public struct DayActivity
{
    public int Day;
    public ushort Events, PageViews, Clicks, AddToCarts, Purchases, Sessions, Custom;
    public uint SessionSeconds;
    public double Revenue;

    public void Count(EventType type, double value)
    {
        Inc(ref Events);
        switch (type)
        {
            case EventType.PageView: Inc(ref PageViews); break;
            case EventType.Click: Inc(ref Clicks); break;
            case EventType.AddToCart: Inc(ref AddToCarts); break;
            case EventType.Purchase: Inc(ref Purchases); Revenue += value; break;
            case EventType.Custom: Inc(ref Custom); break;
        }
    }

    public static void Inc(ref ushort c) { if (c < ushort.MaxValue) c++; }

    public override readonly string ToString() => $"Day({Day}: {Events} events, {Sessions} sessions, {Purchases} purchases)";
}
