using System.Text.RegularExpressions;
using Akka.Configuration;

namespace StreamPersonalization.Runtime.Hocon;

/// <summary>
/// The checks every node runs on its Akka configuration before it creates the ActorSystem, so that a mistake stops it
/// at start with the key named, instead of a cluster that forms wrongly or not at all.
/// </summary>
public static class AkkaConfigValidator
{
    private static readonly string[] Strategies = ["keep-majority", "static-quorum", "keep-oldest", "down-all", "lease-majority"];

    public static Config Validate(Config config, string systemName)
    {
        Check(config, "akka.actor.provider", v => v is "cluster" or "Akka.Cluster.ClusterActorRefProvider, Akka.Cluster", "cluster");
        Check(config, "akka.remote.dot-netty.tcp.hostname", v => v.Length > 0, "a host name or IP address to bind");
        CheckInt(config, "akka.remote.dot-netty.tcp.port", p => p is >= 0 and <= 65535, "a TCP port 0..65535 (0: any free port)");
        // Bound to every interface, the node would advertise 0.0.0.0, an address no other node can reach.
        if (config.GetString("akka.remote.dot-netty.tcp.hostname", "") is "0.0.0.0" or "::" or "[::]"
            && string.IsNullOrWhiteSpace(config.GetString("akka.remote.dot-netty.tcp.public-hostname", "")))
            throw Invalid("akka.remote.dot-netty.tcp.public-hostname", "(empty)",
                "the address other nodes reach this one at (SP_AKKA_PUBLIC_HOSTNAME, e.g. the pod IP) when hostname binds every interface");
        var seedPattern = SeedNode(systemName);
        foreach (var seed in Strings(config, "akka.cluster.seed-nodes"))
            if (seed is null || !seedPattern.IsMatch(seed))
                throw Invalid("akka.cluster.seed-nodes", seed, $"addresses akka.tcp://{systemName}@host:port (the ActorSystem is named '{systemName}')");
        CheckInt(config, "akka.cluster.min-nr-of-members", n => n >= 1, "1 or more");

        var heartbeat = Duration(config, "akka.cluster.failure-detector.heartbeat-interval", TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(1));
        var pause = Duration(config, "akka.cluster.failure-detector.acceptable-heartbeat-pause", TimeSpan.FromMilliseconds(500), TimeSpan.FromMinutes(5));
        if (pause <= heartbeat) throw Invalid("akka.cluster.failure-detector.acceptable-heartbeat-pause", pause, "longer than heartbeat-interval");

        Check(config, "akka.cluster.downing-provider-class", v => v.Contains("SplitBrainResolverProvider", StringComparison.Ordinal),
            "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster (the split-brain resolver is required: without it a crashed node is never downed and its shards never move)");
        Check(config, "akka.cluster.split-brain-resolver.active-strategy", Strategies.Contains, string.Join(", ", Strategies));
        Duration(config, "akka.cluster.split-brain-resolver.stable-after", TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10));

        Check(config, "akka.cluster.sharding.remember-entities", v => v is "off" or "false", "off (user state lives in the state store)");
        // Akka's own idle passivation (120 s by default) would stop a user actor whose state is not yet in the store.
        Check(config, "akka.cluster.sharding.passivate-idle-entity-after", v => v is "off" or "false",
            "off (a user actor passivates itself, and only once its state is saved, after Node:PassivateAfter)");
        if (Strings(config, "akka.cluster.sharding.distributed-data.durable.keys").Count > 0)
            throw Invalid("akka.cluster.sharding.distributed-data.durable.keys", "[…]", "[] (the durable store needs LMDB, which does not load here)");
        Duration(config, "akka.cluster.sharding.rebalance-interval", TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10));
        Duration(config, "akka.cluster.sharding.handoff-timeout", TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10));
        Duration(config, "akka.cluster.sharding.external-shard-allocation-strategy.client-timeout", TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(1));

        if (config.GetBoolean("sp.discovery.enabled", false))
        {
            var method = config.GetString("sp.discovery.method", "");
            if (method is not ("config" or "kubernetes-api")) throw Invalid("sp.discovery.method", method, "config, kubernetes-api");
            Check(config, "sp.discovery.service-name", v => v.Length > 0, "the name of the service to look up");
            CheckInt(config, "sp.discovery.required-contact-points", n => n >= 1, "1 or more");
            Duration(config, "sp.discovery.stable-margin", TimeSpan.Zero, TimeSpan.FromMinutes(5));
            Duration(config, "sp.discovery.interval", TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(1));
            Duration(config, "sp.discovery.lookup-timeout", TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(1));
            if (method == "config")
            {
                var endpoints = Strings(config, "sp.discovery.config-endpoints");
                if (endpoints.Count == 0) throw Invalid("sp.discovery.config-endpoints", "[]", "host:port of each node's remoting endpoint (method = config)");
                foreach (var e in endpoints)
                    if (e is null || !HostPort().IsMatch(e)) throw Invalid("sp.discovery.config-endpoints", e, "host:port entries");
            }
        }
        return config;
    }

    /// <summary>The HOCON key bounding the node's drain on shutdown (the phase <see cref="NodeRuntime.OnDrain"/> uses).</summary>
    public const string DrainPhaseTimeoutKey = "akka.coordinated-shutdown.phases.before-service-unbind.timeout";

    /// <summary>Refuses a drain phase shorter than the node's own shutdown bound: CoordinatedShutdown would leave the
    /// cluster while shards still checkpoint.</summary>
    public static void RequireDrainTime(Config config, TimeSpan nodeShutdownTimeout)
    {
        var phase = Duration(config, DrainPhaseTimeoutKey, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        if (phase <= nodeShutdownTimeout)
            throw Invalid(DrainPhaseTimeoutKey, phase, $"longer than Node:ShutdownTimeout ({nodeShutdownTimeout}), which bounds the drain it runs");
    }

    private static void Check(Config config, string key, Func<string, bool> ok, string allowed)
    {
        var value = config.HasPath(key) ? config.GetString(key, "") : "";
        if (!ok(value)) throw Invalid(key, value, allowed);
    }

    private static void CheckInt(Config config, string key, Func<int, bool> ok, string allowed)
    {
        int value;
        try { value = config.GetInt(key, int.MinValue); }
        catch (Exception e) { throw new HoconConfigurationException($"HOCON key '{key}' is not a whole number; allowed: {allowed}.", e); }
        if (value == int.MinValue || !ok(value)) throw Invalid(key, config.HasPath(key) ? config.GetString(key, "") : "(missing)", allowed);
    }

    private static TimeSpan Duration(Config config, string key, TimeSpan min, TimeSpan max)
    {
        TimeSpan value;
        try { value = config.HasPath(key) ? config.GetTimeSpan(key, null, allowInfinite: false) : TimeSpan.Zero; }
        catch (Exception e) { throw new HoconConfigurationException($"HOCON key '{key}' is not a duration (e.g. 4s, 500ms); allowed: {min}..{max}.", e); }
        if (value < min || value > max) throw Invalid(key, config.HasPath(key) ? config.GetString(key, "") : "(missing)", $"a duration {min}..{max}");
        return value;
    }

    private static IList<string> Strings(Config config, string key) => config.HasPath(key) ? config.GetStringList(key) : [];

    private static HoconConfigurationException Invalid(string key, object? value, string allowed) =>
        new($"HOCON key '{key}' is '{value}'; allowed: {allowed}.");

    private static Regex HostPort() => new("^[^:/@\\s]+:[0-9]{1,5}$");

    private static Regex SeedNode(string system) => new($"^akka\\.tcp://{Regex.Escape(system)}@[^:/@]+:[0-9]{{1,5}}$");
}
