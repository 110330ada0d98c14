using Microsoft.Extensions.Logging;
using StreamPersonalization.Core.Experiments.Definitions;

namespace StreamPersonalization.Node.Experiments;

/// <summary>
/// Re-reads admin definitions from the shared store every <see cref="ExperimentOptions.DefinitionRefreshInterval"/>
/// so a definition written through any node reaches every node. A store outage keeps the catalog in force and is
/// logged once per failure streak.
/// </summary>
public sealed class DefinitionRefresher(ExperimentCatalogSource catalog, IExperimentDefinitionStore store, ExperimentOptions options, ILogger<DefinitionRefresher> log)
{
    /// <summary>Loads once (start-up), then keeps refreshing until cancelled.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        var failing = false;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                foreach (var (d, error) in catalog.Apply(await store.ListDefinitionsAsync(ct).ConfigureAwait(false)))
                    log.LogWarning("Stored definition {Experiment} v{Version} is invalid and ignored: {Error}", d.ExperimentId, d.Version, error.Message);
                if (failing) log.LogInformation("Definition store reachable again; catalog v{Version}", catalog.Current.Version);
                failing = false;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                if (!failing) log.LogWarning("Reading admin definitions failed ({Error}); keeping catalog v{Version}", e.Message, catalog.Current.Version);
                failing = true;
            }
            try { await Task.Delay(options.DefinitionRefreshInterval, ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }
}
