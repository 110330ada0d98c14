using StreamPersonalization.Core.Events;
using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Privacy;
using StreamPersonalization.Core.Privacy.Minimisation;
using StreamPersonalization.Core.Users;

namespace StreamPersonalization.Core.Shards;

/// <summary>
/// The partition's side of a record, before any user is involved: decode and validate (rejects become dead letters),
/// the late check against the partition's event-time watermark, and the watermark itself. Pure and single-threaded;
/// shared by <see cref="UserShard"/> and the partition stage of the actor runtime.
/// </summary>
/// <remarks>
/// The watermark is the largest event time of the partition's on-time events, duplicates included, and never moves for
/// consent or erasure requests (they act whatever their time, and an admin's wall-clock stamp must not move a lagging
/// partition's clock). It depends on no user state, so the partition knows it without asking its users.
/// </remarks>
public sealed class PartitionIngest
{
    private readonly ShardOptions _options;
    private readonly EventDecoder _decoder;
    private readonly Privacy.Pseudonymization.PseudonymCache? _pseudonyms;

    public PartitionIngest(int partition, ShardOptions options, ShardCounters counters, StringPool pool)
    {
        Partition = partition;
        _options = options;
        Counters = counters;
        _pseudonyms = options.Privacy.Pseudonymizer is { } p ? new(p, options.Privacy.PseudonymCacheCapacity) : null;
        _decoder = new EventDecoder(options.Ingest, pool, options.Privacy.Properties, _pseudonyms);
    }

    public int Partition { get; }

    public ShardCounters Counters { get; }

    /// <summary>Largest on-time event time (Unix ms); <see cref="long.MinValue"/> before the first event.</summary>
    public long WatermarkMs { get; set; } = long.MinValue;

    /// <summary>
    /// Counts and decodes one record. Returns the event to apply with the watermark before and after it, or null when
    /// the record is rejected (its dead letter, redacted, is added to <paramref name="deadLetters"/>).
    /// </summary>
    public AcceptedEvent? Accept(InputRecord record, List<ShardOutput> deadLetters)
    {
        Counters.Records++;
        DecodeResult decoded;
        try
        {
            decoded = _decoder.Decode(record.Key, record.Value, record.TimestampMs, new EventIdFallback(record.Topic, record.Partition, record.Offset));
        }
        catch (Exception ex)
        {
            Reject(record, RejectReason.ProcessingError, $"decoder failed: {ex.GetType().FullName}: {ex.Message}", deadLetters, ex.GetType().FullName);
            return null;
        }
        if (!decoded.IsValid) { Reject(record, decoded.Reason, decoded.Detail!, deadLetters); return null; }
        if (decoded.Properties is { Dropped.Total: > 0 } p) CountDrops(p.Dropped);
        return Accept(decoded.Event!, record, deadLetters);
    }

    /// <summary>The late check and watermark for an already decoded event (<paramref name="source"/> null: count only).</summary>
    public AcceptedEvent? Accept(ClickEvent e, InputRecord? source, List<ShardOutput> deadLetters)
    {
        var graceMs = _options.Sessions.GraceMs;
        var privacyRequest = e.Type is EventType.Forget or EventType.Consent;
        var before = WatermarkMs;
        if (!privacyRequest && before != long.MinValue && e.TimestampMs < before - graceMs)
        {
            Counters.LateEvents++;
            Reject(source, RejectReason.LateEvent, $"ts {TimestampParser.Format(e.TimestampMs)} is {before - e.TimestampMs} ms behind the partition watermark; grace {graceMs} ms", deadLetters);
            return null;
        }
        var after = !privacyRequest && e.TimestampMs > before ? e.TimestampMs : before;
        WatermarkMs = after;
        return new AcceptedEvent(e, source?.Offset ?? -1, before, after);
    }

    /// <summary>Counts a rejected record and dead-letters it (count only without a source record).</summary>
    public void Reject(InputRecord? record, RejectReason reason, string detail, List<ShardOutput> deadLetters, string? errorType = null)
    {
        Counters.Rejected[(int)reason]++;
        if (record is not null) deadLetters.Add(DeadLetterFor(record, reason, detail, errorType));
    }

    /// <summary>The dead letter of a record rejected (and counted) elsewhere, redacted like every other.</summary>
    public DeadLetter DeadLetterFor(InputRecord record, RejectReason reason, string detail, string? errorType = null) =>
        new(Redacted(record), reason, detail, errorType);

    /// <summary>A dead letter's source with raw ids replaced when pseudonymisation is on.</summary>
    private InputRecord Redacted(InputRecord record) =>
        _pseudonyms is null ? record : DeadLetterRedactor.Redact(record, id => _pseudonyms.Get(id));

    private void CountDrops(PropertyDropCounts d)
    {
        Counters.Count(PrivacyCounter.PropertyNotAllowlisted, d.NotAllowlisted);
        Counters.Count(PrivacyCounter.PropertyPiiEmail, d.PiiEmail);
        Counters.Count(PrivacyCounter.PropertyPiiPhone, d.PiiPhone);
        Counters.Count(PrivacyCounter.PropertyPiiIp, d.PiiIp);
        Counters.Count(PrivacyCounter.PropertyNotScalar, d.NotScalar);
    }
}

/// <summary>An on-time event with the partition's watermark just before and just after it; <see cref="Offset"/> −1 without a source record.</summary>
public readonly record struct AcceptedEvent(ClickEvent Event, long Offset, long WatermarkBeforeMs, long WatermarkAfterMs);
