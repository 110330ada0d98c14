using StreamPersonalization.Kafka;

namespace StreamPersonalization.Node.Kafka;

/// <summary>
/// Counts one shard's produced-but-unacknowledged records. A checkpoint waits until every output it
/// covers is acknowledged: committing the offset first could lose outputs in a crash.
/// </summary>
public sealed class DeliveryTracker
{
    private long _outstanding;
    private long _delivered;
    private Exception? _failure;
    private readonly object _gate = new();

    public long Outstanding => Interlocked.Read(ref _outstanding);

    public long Delivered => Interlocked.Read(ref _delivered);

    public void Sent() => Interlocked.Increment(ref _outstanding);

    public void Acknowledged(Exception? error)
    {
        if (error is not null) lock (_gate) _failure ??= error;
        else Interlocked.Increment(ref _delivered);
        if (Interlocked.Decrement(ref _outstanding) == 0) lock (_gate) Monitor.PulseAll(_gate);
    }

    /// <summary>Blocks until nothing is outstanding; throws the first delivery failure, if any.</summary>
    public void WaitAllDelivered(TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_gate)
        {
            while (Interlocked.Read(ref _outstanding) > 0)
            {
                ct.ThrowIfCancellationRequested();
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"{Outstanding} output records still unacknowledged after {timeout}.");
                Monitor.Wait(_gate, 50);
            }
            if (_failure is { } f) throw new OutputDeliveryException("An output record could not be delivered; the shard restarts from its last checkpoint.", f);
        }
    }
}
