using System.Globalization;
using System.Text.Json;
using StreamPersonalization.Core.Engagement;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Segments;

namespace StreamPersonalization.Tests.Reference;

/// <summary>One record of a partition log as the reference sees it; <see cref="Label"/> is the generator's verdict.</summary>
public sealed record LogRecord(int Partition, long Offset, byte[] Value, RejectReason? Label);

/// <summary>
/// A deliberately simple model of the user stage, written independently of the engine: it keeps every
/// accepted event of every user in a list and recomputes sessions (greedy over the sorted events) and
/// features (sums over all events) from scratch at every decision point. It scans all users for the next
/// due timer. Slow, obviously right, and it shares no code with the engine except the compiled rules.
/// Output per user: the ordered list of rendered outputs (index = sequence number).
/// Duplicates: an event is dropped (<c>duplicate_event</c>) iff its user's accepted events with ts ≥ watermark − grace,
/// ranked by (ts, arrival) descending, include one with the same event_id among the first <c>DuplicateWindow</c>.
/// The watermark is the largest event time of the on-time events, duplicates included.
/// </summary>
public sealed class ReferenceModel(ReferenceSettings settings, SegmentCatalog catalog)
{
    private const long DayMs = 86_400_000;

    public Dictionary<string, List<string>> Outputs { get; } = new(StringComparer.Ordinal);

    /// <summary>(partition, offset) → reason code of every record that must reach dead-letter.</summary>
    public Dictionary<(int, long), string> DeadLetters { get; } = new();

    private sealed class User
    {
        public readonly List<(long Ts, string Type, double Value, string? Device, string? Country)> Events = [];
        public readonly List<(string Id, long Ts)> Ids = [];   // parallel to Events (arrival order)
        public int ClosedSessions;
        public readonly List<long> ClosedStarts = [];
        public readonly HashSet<string> Members = [];
        public long NextReeval = long.MaxValue;
        public List<List<(long Ts, string Type, double Value, string? Device, string? Country)>>? SessionsCache;   // reset on every new event
    }

    /// <summary>Runs one partition's log in offset order.</summary>
    public void RunPartition(IEnumerable<LogRecord> log)
    {
        var users = new Dictionary<string, User>(StringComparer.Ordinal);
        var wm = long.MinValue;
        foreach (var r in log)
        {
            if (r.Label is { } reason) { DeadLetters[(r.Partition, r.Offset)] = reason.Code(); continue; }
            using var doc = JsonDocument.Parse(r.Value);
            var root = doc.RootElement;
            var userId = root.GetProperty("user_id").GetString()!;
            var type = root.GetProperty("type").GetString()!;
            var ts = DateTimeOffset.Parse(root.GetProperty("ts").GetString()!, CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();
            if (wm != long.MinValue && ts < wm - settings.GraceMs) { DeadLetters[(r.Partition, r.Offset)] = "late_event"; continue; }
            var eventId = root.TryGetProperty("event_id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString()! : $"@{r.Partition}/{r.Offset}";
            var duplicate = users.TryGetValue(userId, out var known) && Remembered(known, wm).Contains(eventId);
            if (ts > wm) { wm = ts; FireTimers(users, wm); }   // every on-time event moves the watermark, duplicates too
            if (duplicate) { DeadLetters[(r.Partition, r.Offset)] = "duplicate_event"; continue; }
            var value = root.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : 0;
            string? Str(string name) => root.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
            if (!users.TryGetValue(userId, out var user)) users[userId] = user = new User();
            user.Events.Add((ts, type, value, Str("device"), Str("country")));
            user.Ids.Add((eventId, ts));
            user.SessionsCache = null;
            Evaluate(userId, user, wm, "event");
        }
    }

    private IEnumerable<string> Remembered(User u, long wm) => u.Ids
        .Select((x, arrival) => (x.Id, x.Ts, arrival))
        .Where(x => wm == long.MinValue || x.Ts >= wm - settings.GraceMs)
        .OrderByDescending(x => x.Ts).ThenByDescending(x => x.arrival)
        .Take(settings.DuplicateWindow)
        .Select(x => x.Id);

    private void FireTimers(Dictionary<string, User> users, long wm)
    {
        while (true)
        {
            string? nextKey = null;
            var nextDue = long.MaxValue;
            foreach (var (key, u) in users)
            {
                var due = Math.Min(SessionDue(u), u.NextReeval);
                if (due < nextDue || (due == nextDue && string.CompareOrdinal(key, nextKey) < 0)) { nextDue = due; nextKey = key; }
            }
            if (nextKey is null || nextDue > wm) return;
            var user = users[nextKey];
            var closed = 0;
            while (SessionDue(user) <= nextDue)
            {
                var s = Sessions(user)[user.ClosedSessions];
                user.ClosedSessions++;
                user.ClosedStarts.Add(s[0].Ts);
                var purchases = s.Where(e => e.Type == "purchase").ToList();
                Emit(nextKey, $"session {s[0].Ts} {s[^1].Ts} events={s.Count} pv={s.Count(e => e.Type == "page_view")} carts={s.Count(e => e.Type == "add_to_cart")} purchases={purchases.Count} revenue={purchases.Sum(e => e.Value):F4} closed_at={nextDue}");
                closed++;
            }
            if (closed > 0 || user.NextReeval <= nextDue) Evaluate(nextKey, user, nextDue, closed > 0 ? "session_closed" : "reevaluation");
        }
    }

    /// <summary>Greedy sessions over the user's events sorted by time (ties in arrival order).</summary>
    private List<List<(long Ts, string Type, double Value, string? Device, string? Country)>> Sessions(User u) => u.SessionsCache ??= ComputeSessions(u);

    private List<List<(long Ts, string Type, double Value, string? Device, string? Country)>> ComputeSessions(User u)
    {
        var sorted = u.Events.Select((e, i) => (e, i)).OrderBy(x => x.e.Ts).ThenBy(x => x.i).Select(x => x.e).ToList();
        var sessions = new List<List<(long, string, double, string?, string?)>>();
        foreach (var e in sorted)
        {
            var current = sessions.Count > 0 ? sessions[^1] : null;
            if (current is not null && e.Ts - current[^1].Item1 < settings.GapMs && e.Ts - current[0].Item1 < settings.MaxLengthMs) current.Add(e);
            else sessions.Add([e]);
        }
        return sessions;
    }

    private long SessionDue(User u)
    {
        var sessions = Sessions(u);
        if (sessions.Count <= u.ClosedSessions) return long.MaxValue;
        var s = sessions[u.ClosedSessions];
        return Math.Min(s[^1].Ts + settings.GapMs, s[0].Ts + settings.MaxLengthMs) + settings.GraceMs;
    }

    private void Evaluate(string key, User u, long now, string cause)
    {
        var f = Features(u, now);
        foreach (var segment in catalog.Segments)
        {
            var member = segment.Rule.Evaluate(in f);
            if (member == u.Members.Contains(segment.Id)) continue;
            if (member) u.Members.Add(segment.Id); else u.Members.Remove(segment.Id);
            Emit(key, $"{(member ? "enter" : "exit")} {segment.Id} v{catalog.Version} at={now} {cause}");
        }
        var next = (now / settings.ReevaluationMs + 1) * settings.ReevaluationMs;
        u.NextReeval = next - u.Events.Max(e => e.Ts) > settings.HorizonMs ? long.MaxValue : next;
    }

    private UserFeatures Features(User u, long now)
    {
        static long Day(long ms) => (long)Math.Floor(ms / (double)DayMs);
        var today = Day(now);
        bool Within(long ts, int days) => today - Day(ts) < days && today - Day(ts) >= 0;
        var f = new UserFeatures
        {
            EngagementScore = u.Events.Sum(e => settings.Weight(e.Type) * Math.Pow(2, -(now - e.Ts) / (double)settings.HalfLifeMs)),
            Events1d = u.Events.Count(e => Within(e.Ts, 1)),
            PageViews7d = u.Events.Count(e => e.Type == "page_view" && Within(e.Ts, 7)),
            Clicks7d = u.Events.Count(e => e.Type == "click" && Within(e.Ts, 7)),
            AddToCarts7d = u.Events.Count(e => e.Type == "add_to_cart" && Within(e.Ts, 7)),
            Purchases30d = u.Events.Count(e => e.Type == "purchase" && Within(e.Ts, 30)),
            Revenue30d = u.Events.Where(e => e.Type == "purchase" && Within(e.Ts, 30)).Sum(e => e.Value),
            Sessions7d = u.ClosedStarts.Count(s => Within(s, 7)),
            Sessions30d = u.ClosedStarts.Count(s => Within(s, 30)),
            CustomEvents30d = u.Events.Count(e => !ReferenceSettings.StandardTypes.Contains(e.Type) && Within(e.Ts, 30)),
            DaysSinceLastSession = Math.Floor((now - u.Events.Max(e => e.Ts)) / (double)DayMs),
            TotalEvents = u.Events.Count,
            TotalPurchases = u.Events.Count(e => e.Type == "purchase"),
        };
        // Device and country of the latest event that carried them (later arrival wins a tie).
        var latest = long.MinValue;
        foreach (var e in u.Events)
        {
            if (e.Ts < latest) continue;
            latest = e.Ts;
            if (e.Device is not null) f.Device = e.Device;
            if (e.Country is not null) f.Country = e.Country;
        }
        return f;
    }

    private void Emit(string user, string rendered)
    {
        if (!Outputs.TryGetValue(user, out var list)) Outputs[user] = list = [];
        list.Add(rendered);
    }
}

/// <summary>The settings the reference needs, in plain numbers.</summary>
public sealed record ReferenceSettings(long GapMs, long MaxLengthMs, long GraceMs, long HalfLifeMs, long ReevaluationMs, long HorizonMs, IReadOnlyDictionary<string, double> Weights,
    int DuplicateWindow = 64)
{
    public static readonly HashSet<string> StandardTypes =
        ["page_view", "click", "scroll", "add_to_cart", "purchase", "video_play", "form_submit", "exposure", "conversion", "consent", "forget"];

    public double Weight(string type) =>
        Weights.TryGetValue(StandardTypes.Contains(type) ? type : "custom", out var w) ? w : 0;

    public static ReferenceSettings From(Core.Shards.ShardOptions o) => new(
        (long)o.Sessions.Gap.TotalMilliseconds, (long)o.Sessions.MaxLength.TotalMilliseconds, (long)o.Sessions.Grace.TotalMilliseconds,
        (long)o.Engagement.HalfLife.TotalMilliseconds, (long)o.ReevaluationInterval.TotalMilliseconds, (long)o.ReevaluationHorizon.TotalMilliseconds,
        o.Engagement.Weights, o.DuplicateWindow);
}
