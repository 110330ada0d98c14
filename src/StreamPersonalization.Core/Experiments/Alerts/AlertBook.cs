namespace StreamPersonalization.Core.Experiments.Alerts;

/// <summary>
/// De-duplicates detector findings of one scope (an experiment, a shard) into alert changes. Each evaluation gets the
/// complete set of current findings and returns only what changed: a key that was not raised is raised (a new episode);
/// a raised key whose severity went up is raised again at the higher severity (a lower severity is not announced); a
/// raised key missing from the findings for <c>quietEvaluationsToResolve</c> consecutive evaluations is resolved. That
/// hysteresis stops a condition hovering at its threshold from flapping. Owned by one thread (an entity); its state is
/// part of the owner's checkpoint (<see cref="ToBytes"/>), so a restart neither repeats nor forgets raised alerts.
/// </summary>
public sealed class AlertBook
{
    private sealed record Entry(
        string Detector, string Subject, int Episode, bool Active, AlertSeverity Severity, int Quiet,
        long Version, long? EventTimeMs, string Message, IReadOnlyList<AlertEvidence> Evidence);

    private readonly SortedDictionary<string, Entry> entries = new(StringComparer.Ordinal);

    /// <summary>An empty book for <paramref name="scope"/> (the first part of every key).</summary>
    public AlertBook(string scope) => Scope = scope;

    /// <summary>Experiment id, shard name, …: the first part of every key.</summary>
    public string Scope { get; }

    /// <summary>
    /// Folds the current findings in and returns the changes in key order (raises and escalations, then resolutions).
    /// Findings with the same key count once, at their highest severity. <paramref name="version"/> and
    /// <paramref name="eventTimeMs"/> are stamped on the changes.
    /// </summary>
    public IReadOnlyList<Alert> Evaluate(IEnumerable<AlertFinding> findings, long version, long? eventTimeMs, int quietEvaluationsToResolve)
    {
        if (quietEvaluationsToResolve < 1) throw new ArgumentOutOfRangeException(nameof(quietEvaluationsToResolve), quietEvaluationsToResolve, "must be at least 1");
        var current = new SortedDictionary<string, AlertFinding>(StringComparer.Ordinal);
        foreach (var f in findings)
        {
            var key = f.KeyIn(Scope);
            if (!current.TryGetValue(key, out var seen) || f.Severity > seen.Severity) current[key] = f;
        }
        var changes = new List<Alert>();
        foreach (var (key, f) in current)
        {
            entries.TryGetValue(key, out var e);
            if (e is not { Active: true })
            {
                e = new(f.Detector, f.Subject, (e?.Episode ?? 0) + 1, true, f.Severity, 0, version, eventTimeMs, f.Message, f.Evidence);
                changes.Add(ToAlert(e, AlertState.Raised));
            }
            else if (f.Severity > e.Severity)
            {
                e = e with { Severity = f.Severity, Quiet = 0, Version = version, EventTimeMs = eventTimeMs, Message = f.Message, Evidence = f.Evidence };
                changes.Add(ToAlert(e, AlertState.Raised));
            }
            else e = e with { Quiet = 0, Message = f.Message, Evidence = f.Evidence };
            entries[key] = e;
        }
        foreach (var (key, e) in entries.ToList())
        {
            if (!e.Active || current.ContainsKey(key)) continue;
            var quiet = e.Quiet + 1;
            if (quiet < quietEvaluationsToResolve) { entries[key] = e with { Quiet = quiet }; continue; }
            var resolved = e with
            {
                Active = false, Quiet = 0, Version = version, EventTimeMs = eventTimeMs,
                Message = $"resolved after {quiet} quiet evaluation{(quiet == 1 ? "" : "s")}; last: {e.Message}",
            };
            entries[key] = resolved;
            changes.Add(ToAlert(resolved, AlertState.Resolved));
        }
        return changes;
    }

    /// <summary>Currently raised alerts in key order, each with the version it was raised (or escalated) at and its latest evidence.</summary>
    public IReadOnlyList<Alert> Raised => entries.Values.Where(e => e.Active).Select(e => ToAlert(e, AlertState.Raised)).ToList();

    private Alert ToAlert(Entry e, AlertState state) =>
        new(Scope, e.Detector, e.Subject, e.Severity, state, e.Episode, e.Version, e.EventTimeMs, e.Message, e.Evidence);

    /// <summary>Binary format version of <see cref="ToBytes"/>.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Versioned binary form: every key ever raised (to keep counting episodes) with its current state.</summary>
    public byte[] ToBytes()
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms)) WriteTo(w);
        return ms.ToArray();
    }

    /// <summary>Writes the book (also embedded in the experiment state's checkpoint).</summary>
    internal void WriteTo(BinaryWriter w)
    {
        w.Write(FormatVersion);
        w.Write(Scope);
        w.Write(entries.Count);
        foreach (var e in entries.Values)
        {
            w.Write(e.Detector); w.Write(e.Subject); w.Write(e.Episode); w.Write(e.Active); w.Write((byte)e.Severity);
            w.Write(e.Quiet); w.Write(e.Version); w.Write(e.EventTimeMs.HasValue); w.Write(e.EventTimeMs ?? 0);
            w.Write(e.Message); w.Write(e.Evidence.Count);
            foreach (var x in e.Evidence) { w.Write(x.Name); w.Write(x.Value); }
        }
    }

    /// <summary>Restores <see cref="ToBytes"/> output; throws <see cref="InvalidDataException"/> for an unknown version or truncated bytes.</summary>
    public static AlertBook FromBytes(byte[] bytes)
    {
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes, writable: false));
            return ReadFrom(r);
        }
        catch (EndOfStreamException e) { throw new InvalidDataException("truncated alert book", e); }
    }

    internal static AlertBook ReadFrom(BinaryReader r)
    {
        var version = r.ReadByte();
        if (version != FormatVersion) throw new InvalidDataException($"alert book format {version} is not supported (expected {FormatVersion})");
        var book = new AlertBook(r.ReadString());
        for (int i = 0, n = r.ReadInt32(); i < n; i++)
        {
            var (detector, subject, episode, active, severity) = (r.ReadString(), r.ReadString(), r.ReadInt32(), r.ReadBoolean(), (AlertSeverity)r.ReadByte());
            var (quiet, changed, hasTime, time) = (r.ReadInt32(), r.ReadInt64(), r.ReadBoolean(), r.ReadInt64());
            var message = r.ReadString();
            var count = r.ReadInt32();
            if (count < 0) throw new InvalidDataException("negative evidence count");
            var evidence = new AlertEvidence[count];
            for (var j = 0; j < evidence.Length; j++) evidence[j] = new(r.ReadString(), r.ReadDouble());
            book.entries[Alert.KeyOf(book.Scope, detector, subject)] =
                new(detector, subject, episode, active, severity, quiet, changed, hasTime ? time : null, message, evidence);
        }
        return book;
    }

    /// <inheritdoc />
    public override string ToString() => $"AlertBook({Scope}: {entries.Values.Count(e => e.Active)} raised of {entries.Count} keys)";
}
