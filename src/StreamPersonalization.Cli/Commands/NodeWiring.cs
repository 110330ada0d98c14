using Microsoft.Extensions.Logging;
using StreamPersonalization.Core.Checkpoints;
using StreamPersonalization.Core.Privacy.Pseudonymization;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Node;
using StreamPersonalization.Node.Experiments;
using StreamPersonalization.Node.Hosting;
using StreamPersonalization.Node.Kafka;

namespace StreamPersonalization.Cli.Commands;

/// <summary>
/// The node and its experiment parts as <c>run</c> and <c>demo</c> wire them. Serving starts first: the shards
/// attribute exposures with the catalog it keeps current (file + admin definitions).
/// </summary>
internal sealed class NodeWiring : IAsyncDisposable
{
    private NodeWiring(StreamNode node, ExperimentServing? serving) => (Node, Serving) = (node, serving);

    public StreamNode Node { get; }

    /// <summary>Assignment, definitions and the state reader; null without an experiment catalog.</summary>
    public ExperimentServing? Serving { get; }

    /// <param name="system">The node's ActorSystem (its cluster member): the user actors and the ingest graph run on it.</param>
    public static async Task<NodeWiring> CreateAsync(NodeSettings settings, KafkaOptions kafka, SegmentCatalog catalog, ICheckpointStore store,
        ShardOptions shardOptions, UserIdPseudonymizer? pseudonymizer, ILoggerFactory loggers, Akka.Actor.ActorSystem system, CancellationToken ct)
    {
        var experiments = settings.LoadExperiments();
        var serving = experiments is null ? null
            : await ExperimentServing.StartAsync(settings, kafka, experiments, catalog, store, loggers, ct, pseudonymizer, shardOptions.Privacy);
        var node = new StreamNode(settings.Node, kafka, shardOptions, catalog, store, new KafkaClientFactory(kafka, loggers.CreateLogger<KafkaClientFactory>()), loggers,
            experiments: experiments, dataQuality: settings.DataQuality)
        {
            CurrentExperiments = serving is null ? null : () => serving.Services.Catalog.Current,
            System = system,
        };
        return new NodeWiring(node, serving);
    }

    /// <summary>The experiment stage over the serving catalog (null without experiments); not started.</summary>
    public ExperimentStage? CreateStage(NodeSettings settings, KafkaOptions kafka, ICheckpointStore store, ILoggerFactory loggers) =>
        Serving is null ? null
            : new ExperimentStage(settings.Node, settings.Experiments, kafka, Serving.Services.Catalog, store, new KafkaClientFactory(kafka, loggers.CreateLogger<KafkaClientFactory>()), loggers, settings.Detectors);

    public async ValueTask DisposeAsync()
    {
        if (Serving is not null) await Serving.DisposeAsync();
    }
}
