using Microsoft.Extensions.Logging;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Engagement;
using StreamPersonalization.Core.Privacy.Cohorts;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Node.Hosting;
using StreamPersonalization.Node.Kafka;

namespace StreamPersonalization.Node.Privacy;

/// <summary>
/// The node's cohort-metrics wiring: the release store (read by <c>GET /v1/cohorts</c> on every node) and, when
/// <c>Privacy:Cohorts:Enabled</c>, a <see cref="CohortReleaser"/> running in the background with its own producer.
/// Disposing stops the releaser and releases its producer and store.
/// </summary>
public sealed class CohortReleaseService : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly Task _running;
    private readonly IDisposable? _producer;

    private CohortReleaseService(ICohortReleaseStore releases, CohortReleaser? releaser, IDisposable? producer, CancellationToken ct)
    {
        Releases = releases;
        Releaser = releaser;
        _producer = producer;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _running = releaser?.RunAsync(_stop.Token) ?? Task.CompletedTask;
    }

    /// <summary>Stored releases and the privacy ledger.</summary>
    public ICohortReleaseStore Releases { get; }

    /// <summary>The background releaser, or null when this node does not run one.</summary>
    public CohortReleaser? Releaser { get; }

    /// <summary>Opens the release store and starts the releaser (if enabled) until <paramref name="ct"/> is cancelled or this is disposed.</summary>
    public static CohortReleaseService Start(NodeSettings settings, KafkaOptions kafka, SegmentCatalog catalog, ICheckpointStore store, ILoggerFactory loggers, CancellationToken ct)
    {
        var releases = settings.CreateCohortReleaseStore();
        if (!settings.Cohorts.Enabled) return new(releases, null, null, ct);
        var log = loggers.CreateLogger("sp.cohorts");
        var producer = new KafkaClientFactory(kafka, loggers.CreateLogger<KafkaClientFactory>()).CreateProducer($"{settings.Node.NodeId}-cohorts");
        var releaser = new CohortReleaser(settings.Cohorts,
            new StoredUserContributions(store, catalog, new HalfLifeDecay(settings.Shards.Engagement.HalfLife)),
            releases, new CohortPublisher(producer, kafka), log);
        log.LogInformation("{Releaser} started: releases go to {Topic}", releaser, kafka.CohortMetricsTopic);
        return new(releases, releaser, producer, ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try { await _running.ConfigureAwait(false); } catch (OperationCanceledException) { }
        _producer?.Dispose();
        if (Releases is IAsyncDisposable d) await d.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
