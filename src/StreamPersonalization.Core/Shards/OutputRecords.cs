using StreamPersonalization.Core.Ingest;
using StreamPersonalization.Core.Sessions;

namespace StreamPersonalization.Core.Shards;

/// <summary>
/// Records a shard emits. Each user output carries a deterministic <see cref="RecordId"/>
/// ("user/sequence"): replaying from a checkpoint reproduces the same ids, so downstream services
/// de-duplicate re-delivered records by id.
/// </summary>
public abstract record ShardOutput(string Key, string RecordId);

/// <summary>A finished session, emitted when the watermark makes it final.</summary>
public sealed record SessionClosedOutput(string UserId, long Sequence, ClosedSession Session, long ClosedAtMs)
    : ShardOutput(UserId, $"{UserId}/{Sequence}")
{
    public string SessionId => $"{UserId}/{Session.StartMs}";

    public override string ToString() => $"SessionClosed({RecordId} {Session})";
}

/// <summary>
/// A user was erased (<c>forget</c>): the node writes tombstones (null values) for the user's key on the keyed
/// outputs, so compacted topics drop the user's history. Its id is stable per erasure event.
/// </summary>
public sealed record UserErased(string UserId, long AtMs) : ShardOutput(UserId, $"{UserId}/erased@{AtMs}")
{
    public override string ToString() => $"UserErased({UserId} @{AtMs})";
}

/// <summary>Why a segment evaluation happened.</summary>
public enum EvaluationCause : byte { Event, SessionClosed, Reevaluation, ConsentWithdrawn }

/// <summary>A user entered or exited a segment at event time <see cref="AtMs"/>.</summary>
public sealed record SegmentTransition(string UserId, long Sequence, string SegmentId, bool Entered, int CatalogVersion, long AtMs, EvaluationCause Cause)
    : ShardOutput(UserId, $"{UserId}/{Sequence}")
{
    public string Change => Entered ? "enter" : "exit";

    public override string ToString() => $"SegmentTransition({RecordId} {Change} {SegmentId} v{CatalogVersion} @{AtMs} {Cause})";
}

/// <summary>
/// A rejected input record with its reason. Its id is its source position, unique and stable.
/// <see cref="ErrorType"/> is the exception type when processing threw (<c>processing_error</c>); the detail then
/// reads "type: message".
/// </summary>
public sealed record DeadLetter(InputRecord Source, RejectReason Reason, string Detail, string? ErrorType = null)
    : ShardOutput(Source.Key is null ? "" : System.Text.Encoding.UTF8.GetString(Source.Key), Source.Position)
{
    public override string ToString() => $"DeadLetter({Source.Position} {Reason.Code()}: {Detail})";
}

/// <summary>Where a shard's outputs go (Kafka in production, a list in tests). Called on the shard's thread.</summary>
public interface IShardOutput
{
    void Emit(ShardOutput record);
}

/// <summary>Collects outputs in memory (tests, engine benchmark).</summary>
public sealed class ListShardOutput : IShardOutput
{
    public List<ShardOutput> Records { get; } = [];

    public void Emit(ShardOutput record) => Records.Add(record);
}
