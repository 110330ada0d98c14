using System.Globalization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Discovery;
using Akka.Event;

namespace StreamPersonalization.Runtime.Cluster;

/// <summary>
/// Joins the cluster through Akka.Discovery: looks the service up every <c>sp.discovery.interval</c> until at least
/// <c>required-contact-points</c> nodes are listed and the list has not changed for <c>stable-margin</c>, then joins
/// them as seed nodes in address order. Akka's seed-node protocol then lets only the first (lowest-addressed) node form
/// a new cluster when none answers, and every node computes the same order, so one cluster forms.
/// </summary>
internal static class DiscoveryJoin
{
    /// <summary>The Akka.Discovery settings that <c>sp.discovery.*</c> stands for.</summary>
    public static Config DiscoveryConfig(Config config)
    {
        var service = config.GetString("sp.discovery.service-name");
        if (config.GetString("sp.discovery.method") == "config")
        {
            var endpoints = string.Join(", ", config.GetStringList("sp.discovery.config-endpoints").Select(e => $"\"{e}\""));
            return ConfigurationFactory.ParseString($"akka.discovery.method = config\nakka.discovery.config.services.{service}.endpoints = [{endpoints}]");
        }
        return ConfigurationFactory.ParseString("akka.discovery.method = kubernetes-api");
    }

    public static async Task RunAsync(ActorSystem system, Config config)
    {
        var log = Logging.GetLogger(system, typeof(DiscoveryJoin));
        var cluster = Akka.Cluster.Cluster.Get(system);
        var service = config.GetString("sp.discovery.service-name");
        var required = config.GetInt("sp.discovery.required-contact-points");
        var stableFor = config.GetTimeSpan("sp.discovery.stable-margin");
        var interval = config.GetTimeSpan("sp.discovery.interval");
        var lookupTimeout = config.GetTimeSpan("sp.discovery.lookup-timeout");
        var remotingPort = cluster.SelfAddress.Port ?? 0;
        var discovery = Discovery.Get(system).Default;
        string? last = null;
        var since = DateTime.UtcNow;
        while (!system.WhenTerminated.IsCompleted)
        {
            try
            {
                var resolved = await discovery.Lookup(new Lookup(service), lookupTimeout).ConfigureAwait(false);
                var seeds = resolved.Addresses
                    .Select(t => new Address("akka.tcp", system.Name, t.Address?.ToString() ?? t.Host, t.Port ?? remotingPort))
                    .Distinct()
                    .OrderBy(a => a.Host, StringComparer.Ordinal).ThenBy(a => a.Port)
                    .ToList();
                var key = string.Join(",", seeds);
                if (key != last) (last, since) = (key, DateTime.UtcNow);
                else if (seeds.Count >= required && DateTime.UtcNow - since >= stableFor)
                {
                    log.Info("Discovery found {0} node(s) of service {1}; joining seed nodes {2}", seeds.Count, service, key);
                    cluster.JoinSeedNodes(seeds);
                    return;
                }
            }
            catch (Exception e)
            {
                log.Warning("Discovery lookup of service {0} failed: {1}; retrying", service, e.Message);
            }
            await Task.Delay(interval).ConfigureAwait(false);
        }
    }

}
