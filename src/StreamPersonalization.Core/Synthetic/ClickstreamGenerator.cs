namespace StreamPersonalization.Core.Synthetic;

/// <summary>
/// Deterministic synthetic clickstream for tests, demos and benchmarks: simulated users with stable
/// profiles and sessions walking a shop funnel, a small share of out-of-order events within
/// <see cref="ClickstreamGeneratorOptions.MaxOutOfOrderMs"/>, and labelled bad records. Pure CPU and
/// memory (no Kafka, no I/O) so the same stream can feed unit tests and the producer alike.
/// </summary>
/// <remarks>
/// Valid records have <see cref="SyntheticRecord.Key"/> equal to their JSON <c>user_id</c> and a null
/// <see cref="SyntheticRecord.ExpectedReject"/>. Output is a pure function of the options and
/// <c>count</c>; a shorter run is a prefix of a longer one with the same options.
/// </remarks>
public sealed class ClickstreamGenerator
{
    /// <summary>Validates <paramref name="options"/> up front so a bad config fails before any record is produced.</summary>
    public ClickstreamGenerator(ClickstreamGeneratorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    public ClickstreamGeneratorOptions Options { get; }

    /// <summary>
    /// Lazily yields exactly <paramref name="count"/> records (valid and bad) in approximately
    /// event-time order. Each enumeration restarts the simulation and yields the same records.
    /// </summary>
    public IEnumerable<SyntheticRecord> Generate(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return Run(count);

        IEnumerable<SyntheticRecord> Run(long n)
        {
            var simulation = new ClickstreamSimulation(Options);
            for (long i = 0; i < n; i++) yield return simulation.Next().Record;
        }
    }

    /// <summary>Like <see cref="Generate"/> but with the bad-record kind and out-of-order flag, for tests.</summary>
    internal IEnumerable<LabeledRecord> GenerateLabeled(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return Run(count);

        IEnumerable<LabeledRecord> Run(long n)
        {
            var simulation = new ClickstreamSimulation(Options);
            for (long i = 0; i < n; i++) yield return simulation.Next();
        }
    }
}
