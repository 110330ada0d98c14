using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Experiments.Attribution;

namespace StreamPersonalization.Core.Shards;

/// <summary>
/// One round's work for one user, sent by its partition: the user's on-time events of the round in offset order, then
/// its timers up to <see cref="WatermarkEndMs"/> (the partition's watermark after the round). A round without events is
/// a tick (a timer came due) or, with <see cref="TakeState"/>, a checkpoint barrier.
/// </summary>
/// <param name="TakeState">The round ends in a checkpoint: answer with the state to write if it changed since the last one.</param>
/// <param name="Continues">The user changed since the partition's last checkpoint in this epoch: the work continues
/// state only its worker holds (not the store), so a worker that would have to load it must refuse the work.</param>
public sealed record UserWork(string Key, IReadOnlyList<AcceptedEvent> Events, long WatermarkEndMs, bool TakeState, bool Continues = false)
{
    public override string ToString() => $"UserWork({Key}, {Events.Count} events, wm {WatermarkEndMs}{(TakeState ? ", take state" : "")}{(Continues ? ", continues" : "")})";
}

/// <summary>A user's answer to its <see cref="UserWork"/>: what the partition merges into its outputs, counters and checkpoint.</summary>
/// <param name="Outputs">Transitions, closed sessions and erasures, in the user's order.</param>
/// <param name="Counters">What this round added to the partition's counters.</param>
/// <param name="DeltaOps">Experiment contributions, each with the offset of its event (the partition adds them in offset order).</param>
/// <param name="Duplicates">Offsets of the round's events rejected as duplicates, with the reason's detail.</param>
/// <param name="ScheduledDueMs">The user's one live timer after the round (<see cref="long.MaxValue"/>: none).</param>
/// <param name="Dirty">The user changed in this round.</param>
/// <param name="Write">With <see cref="UserWork.TakeState"/>: the row to write (state or delete), null when unchanged since the last checkpoint.</param>
/// <param name="ErasedAt">Offsets of forget events (stored assignments erased with the checkpoint).</param>
/// <param name="WithdrewAt">Offsets of consent withdrawals (stored assignments deleted with the checkpoint).</param>
/// <param name="Poison">Entity code threw on the event at this offset: the user's state is half-changed and nothing else of the round applies.</param>
public sealed record UserWorkResult(
    string Key,
    IReadOnlyList<ShardOutput> Outputs,
    ShardCounters Counters,
    IReadOnlyList<ExperimentDeltaOp> DeltaOps,
    IReadOnlyList<(long Offset, string Detail)> Duplicates,
    long ScheduledDueMs,
    bool Dirty,
    EntityWrite? Write,
    IReadOnlyList<long> ErasedAt,
    IReadOnlyList<long> WithdrewAt,
    PoisonRecordException? Poison = null,
    long PoisonOffset = -1)
{
    public override string ToString() =>
        $"UserWorkResult({Key}, {Outputs.Count} outputs, due {ScheduledDueMs}{(Dirty ? ", dirty" : "")}{(Write is null ? "" : ", " + Write)}{(Poison is null ? "" : $", poison @{PoisonOffset}")})";
}
