using StreamPersonalization.Core.Checkpoints;

namespace StreamPersonalization.Storage;

/// <summary>
/// Rejects malformed batches before a transaction is opened, so callers get an
/// <see cref="ArgumentException"/> that names the offending field instead of a provider-specific
/// constraint violation, and no store ever sees half a batch.
/// </summary>
internal static class CheckpointBatchGuard
{
    public static void Validate(CheckpointBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (string.IsNullOrEmpty(batch.Scope))
            throw new ArgumentException($"{batch}: Scope must be a non-empty string.", nameof(batch));
        if (batch.Partition < 0)
            throw new ArgumentException($"{batch}: Partition must be >= 0, got {batch.Partition}.", nameof(batch));
        if (batch.NextOffset < 0)
            throw new ArgumentException($"{batch}: NextOffset must be >= 0, got {batch.NextOffset}.", nameof(batch));
        if (batch.Entities is null)
            throw new ArgumentException($"CheckpointBatch({batch.Scope}/{batch.Partition}): Entities must not be null (use an empty list).", nameof(batch));

        for (var i = 0; i < batch.Entities.Count; i++)
        {
            var write = batch.Entities[i];
            if (write is null)
                throw new ArgumentException($"{batch}: entity write #{i} is null.", nameof(batch));
            if (write.Key is null)
                throw new ArgumentException($"{batch}: entity write #{i} has a null Key.", nameof(batch));
        }

        if (batch.Outbox is null)
            return;
        for (var i = 0; i < batch.Outbox.Count; i++)
        {
            var message = batch.Outbox[i];
            if (message is null)
                throw new ArgumentException($"{batch}: outbox message #{i} is null.", nameof(batch));
            if (string.IsNullOrEmpty(message.Topic))
                throw new ArgumentException($"{batch}: outbox message #{i} has an empty Topic.", nameof(batch));
            if (message.Key is null || message.Value is null)
                throw new ArgumentException($"{batch}: outbox message #{i} has a null Key or Value.", nameof(batch));
        }
    }
}
