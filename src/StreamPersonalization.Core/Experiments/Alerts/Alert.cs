using System.Globalization;
using StreamPersonalization.Core.Ingest;

namespace StreamPersonalization.Core.Experiments.Alerts;

/// <summary>How urgent an alert is; ordered, so a higher value is an escalation.</summary>
public enum AlertSeverity : byte
{
    /// <summary>Worth knowing, no action expected.</summary>
    Info = 1,
    /// <summary>Look at it soon.</summary>
    Warning = 2,
    /// <summary>Results or users are at risk now.</summary>
    Critical = 3,
}

/// <summary>Whether an alert record opens (or escalates) an episode or closes it.</summary>
public enum AlertState : byte
{
    /// <summary>The condition holds: newly raised or escalated.</summary>
    Raised = 1,
    /// <summary>The condition has been quiet long enough to close the episode.</summary>
    Resolved = 2,
}

/// <summary>Detector codes (the wire value of <see cref="Alert.Detector"/>).</summary>
public static class AlertDetectors
{
    /// <summary>Sample-ratio mismatch against the intended split.</summary>
    public const string Srm = "srm";
    /// <summary>EWMA/CUSUM alarm on an arm's per-minute conversion rate.</summary>
    public const string MetricAnomaly = "metric_anomaly";
    /// <summary>A sequential test says a guardrail metric got worse in a treatment arm.</summary>
    public const string GuardrailBreach = "guardrail_breach";
    /// <summary>Invalid-event or late-event ratio of a shard above its threshold.</summary>
    public const string DataQuality = "data_quality";
}

/// <summary>One named number backing an alert (a p-value, a rate, a limit). Order in a list is kept on the wire.</summary>
public sealed record AlertEvidence(string Name, double Value)
{
    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Name}={Value:G6}");
}

/// <summary>What a detector reports as currently wrong; the <see cref="AlertBook"/> turns findings into alert changes.</summary>
public sealed record AlertFinding(string Detector, string Subject, AlertSeverity Severity, string Message, IReadOnlyList<AlertEvidence> Evidence)
{
    /// <summary>The dedup key within a scope.</summary>
    public string KeyIn(string scope) => Alert.KeyOf(scope, Detector, Subject);
}

/// <summary>
/// One alert change as published to <c>alerts</c> (JSON via <see cref="AlertJson"/>, <c>schema</c> = <see cref="CurrentSchema"/>).
/// <see cref="Key"/> = scope/detector[/subject] identifies the condition; <see cref="Episode"/> counts how often it was
/// raised. <see cref="Id"/> (key, episode, state, severity) is the idempotency key: it does not depend on the version at
/// which a replay happens to notice the change, so downstream can de-duplicate re-published alerts by it.
/// <see cref="Version"/> and <see cref="EventTimeMs"/> say when it changed (the scope's state version, e.g. an experiment's
/// applied-delta count, and the event-time watermark, null when unknown). <see cref="Evidence"/> is the latest seen.
/// </summary>
public sealed record Alert(
    string Scope,
    string Detector,
    string Subject,
    AlertSeverity Severity,
    AlertState State,
    int Episode,
    long Version,
    long? EventTimeMs,
    string Message,
    IReadOnlyList<AlertEvidence> Evidence)
{
    /// <summary>JSON schema version written as <c>schema</c>.</summary>
    public const int CurrentSchema = 1;

    /// <summary>Scope/detector, plus /subject when there is one.</summary>
    public string Key => KeyOf(Scope, Detector, Subject);

    /// <summary>Deterministic idempotency key: key#episode/state/severity.</summary>
    public string Id => $"{Key}#{Episode}/{AlertNames.Of(State)}/{AlertNames.Of(Severity)}";

    /// <summary>The key of a condition.</summary>
    public static string KeyOf(string scope, string detector, string subject) =>
        subject.Length == 0 ? $"{scope}/{detector}" : $"{scope}/{detector}/{subject}";

    /// <summary>Structural equality including the evidence (records compare lists by reference).</summary>
    public bool SameAs(Alert other) =>
        Scope == other.Scope && Detector == other.Detector && Subject == other.Subject && Severity == other.Severity
        && State == other.State && Episode == other.Episode && Version == other.Version && EventTimeMs == other.EventTimeMs
        && Message == other.Message && Evidence.SequenceEqual(other.Evidence);

    /// <inheritdoc />
    public override string ToString() =>
        $"{Id} v{Version}: {Message} [{string.Join(", ", Evidence)}]";
}

/// <summary>Wire names of the alert enums.</summary>
public static class AlertNames
{
    /// <summary>Unix ms as ISO-8601 UTC, or the plain number when outside the representable range (so formatting never throws).</summary>
    public static string Time(long ms) =>
        ms >= DateTimeOffset.MinValue.ToUnixTimeMilliseconds() && ms <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
            ? TimestampParser.Format(ms) : ms.ToString(CultureInfo.InvariantCulture);

    /// <summary>info, warning or critical.</summary>
    public static string Of(AlertSeverity s) => s switch
    {
        AlertSeverity.Info => "info",
        AlertSeverity.Warning => "warning",
        AlertSeverity.Critical => "critical",
        _ => throw new ArgumentOutOfRangeException(nameof(s), s, "unknown severity"),
    };

    /// <summary>raised or resolved.</summary>
    public static string Of(AlertState s) => s switch
    {
        AlertState.Raised => "raised",
        AlertState.Resolved => "resolved",
        _ => throw new ArgumentOutOfRangeException(nameof(s), s, "unknown alert state"),
    };
}
