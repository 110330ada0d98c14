using StreamPersonalization.Runtime.Hocon;
using StreamPersonalization.Tests;

namespace StreamPersonalization.Runtime.Tests.Hocon;

public sealed class AkkaConfigLoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sp-hocon-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static AkkaOptions Repo(string environment = "development") =>
        new() { HoconDirectory = Path.Combine(RepoPaths.Root, "hocon"), Environment = environment };

    private static string? NoEnvironment(string _) => null;

    [Fact]
    public void Load_RepositoryFiles_GivesAClusterWithTheSplitBrainResolver()
    {
        var config = AkkaConfigLoader.Load(Repo(), environment: NoEnvironment);
        Assert.Equal("cluster", config.GetString("akka.actor.provider"));
        Assert.Equal("127.0.0.1", config.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal(4053, config.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Contains("SplitBrainResolverProvider", config.GetString("akka.cluster.downing-provider-class"));
        Assert.Equal(TimeSpan.FromSeconds(3), config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
        Assert.Equal(TimeSpan.FromSeconds(5), config.GetTimeSpan("akka.cluster.sharding.external-shard-allocation-strategy.client-timeout"));
        Assert.Empty(config.GetStringList("akka.cluster.sharding.distributed-data.durable.keys"));
    }

    [Fact]
    public void Load_Production_BindsAllInterfacesAndUsesDiscovery()
    {
        var config = AkkaConfigLoader.Load(Repo("production"), environment: v => v == "SP_AKKA_PUBLIC_HOSTNAME" ? "10.1.2.3" : null);
        Assert.Equal("0.0.0.0", config.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal("10.1.2.3", config.GetString("akka.remote.dot-netty.tcp.public-hostname"));
        Assert.True(config.GetBoolean("sp.discovery.enabled"));
        Assert.Equal("kubernetes-api", config.GetString("sp.discovery.method"));
    }

    [Fact]
    public void RequireDrainTime_PhaseShorterThanTheNodesShutdown_FailsNamingTheKey()
    {
        var config = AkkaConfigLoader.Load(Repo("development"), environment: NoEnvironment);
        AkkaConfigValidator.RequireDrainTime(config, TimeSpan.FromSeconds(30));   // the repository's 40 s phase fits
        var e = Assert.Throws<HoconConfigurationException>(() => AkkaConfigValidator.RequireDrainTime(config, TimeSpan.FromSeconds(40)));
        Assert.Contains($"'{AkkaConfigValidator.DrainPhaseTimeoutKey}'", e.Message);
    }

    [Fact]
    public void Load_ProductionWithoutPublicHostname_FailsNamingTheKey()
    {
        // Bound to 0.0.0.0 the node would tell the others to reach it at 0.0.0.0.
        var e = Assert.Throws<HoconConfigurationException>(() => AkkaConfigLoader.Load(Repo("production"), environment: NoEnvironment));
        Assert.Contains("'akka.remote.dot-netty.tcp.public-hostname'", e.Message);
        Assert.Contains("SP_AKKA_PUBLIC_HOSTNAME", e.Message);
    }

    [Fact]
    public void Load_EnvironmentVariables_OverrideFilesAndSplitSeeds()
    {
        var env = new Dictionary<string, string>
        {
            ["SP_AKKA_HOSTNAME"] = "10.0.0.7", ["SP_AKKA_PORT"] = "2552",
            ["SP_AKKA_SEEDS"] = "akka.tcp://sp@10.0.0.5:2552, akka.tcp://sp@10.0.0.6:2552",
        };
        var config = AkkaConfigLoader.Load(Repo(), environment: env.GetValueOrDefault);
        Assert.Equal("10.0.0.7", config.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal(2552, config.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal(["akka.tcp://sp@10.0.0.5:2552", "akka.tcp://sp@10.0.0.6:2552"], config.GetStringList("akka.cluster.seed-nodes"));
    }

    [Fact]
    public void Load_Layers_ConfigFileOverEnvironmentFileOverBase_OverridesLast()
    {
        var file = Path.Combine(_dir, "site.conf");
        File.WriteAllText(file, "akka.cluster.split-brain-resolver.stable-after = 7s\nakka.remote.dot-netty.tcp.port = 4100\n");
        var config = AkkaConfigLoader.Load(Repo() with { ConfigFile = file },
            new Dictionary<string, string> { ["akka.remote.dot-netty.tcp.port"] = "0" }, NoEnvironment);
        Assert.Equal(TimeSpan.FromSeconds(7), config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
        Assert.Equal(0, config.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal("127.0.0.1", config.GetString("akka.remote.dot-netty.tcp.hostname"));   // from development.conf / akka.conf
    }

    [Theory]
    [InlineData("akka.remote.dot-netty.tcp.port = 70000", "akka.remote.dot-netty.tcp.port")]
    [InlineData("akka.cluster.seed-nodes = [\"akka.tcp://other@h:1\"]", "akka.cluster.seed-nodes")]
    [InlineData("akka.cluster.seed-nodes = [\"h:1\"]", "akka.cluster.seed-nodes")]
    [InlineData("akka.cluster.downing-provider-class = \"\"", "akka.cluster.downing-provider-class")]
    [InlineData("akka.cluster.split-brain-resolver.active-strategy = keep-everyone", "akka.cluster.split-brain-resolver.active-strategy")]
    [InlineData("akka.cluster.split-brain-resolver.stable-after = 0s", "akka.cluster.split-brain-resolver.stable-after")]
    [InlineData("akka.cluster.split-brain-resolver.stable-after = soon", "akka.cluster.split-brain-resolver.stable-after")]
    [InlineData("akka.cluster.sharding.remember-entities = on", "akka.cluster.sharding.remember-entities")]
    [InlineData("akka.cluster.sharding.passivate-idle-entity-after = 120s", "akka.cluster.sharding.passivate-idle-entity-after")]
    [InlineData("akka.cluster.sharding.distributed-data.durable.keys = [\"*\"]", "akka.cluster.sharding.distributed-data.durable.keys")]
    [InlineData("akka.cluster.failure-detector.acceptable-heartbeat-pause = 1s\nakka.cluster.failure-detector.heartbeat-interval = 2s", "akka.cluster.failure-detector.acceptable-heartbeat-pause")]
    [InlineData("akka.actor.provider = local", "akka.actor.provider")]
    [InlineData("sp.discovery.enabled = on\nsp.discovery.method = config", "sp.discovery.config-endpoints")]
    [InlineData("sp.discovery.enabled = on\nsp.discovery.method = dns", "sp.discovery.method")]
    public void Load_BadValue_FailsNamingTheKey(string hocon, string key)
    {
        var file = Path.Combine(_dir, "bad.conf");
        File.WriteAllText(file, hocon);
        var error = Assert.Throws<HoconConfigurationException>(() => AkkaConfigLoader.Load(Repo() with { ConfigFile = file }, environment: NoEnvironment));
        Assert.Contains($"'{key}'", error.Message);
    }

    [Fact]
    public void Load_BadPortInEnvironment_FailsNamingTheKey()
    {
        var error = Assert.Throws<HoconConfigurationException>(() =>
            AkkaConfigLoader.Load(Repo(), environment: v => v == "SP_AKKA_PORT" ? "twelve" : null));
        Assert.Contains("'akka.remote.dot-netty.tcp.port'", error.Message);
    }

    [Theory]
    [InlineData("akka { cluster { min-nr-of-members = 1 }\n")]   // an unclosed brace
    [InlineData("akka.cluster.min-nr-of-members = 1 }\n")]        // a brace that closes nothing
    [InlineData("akka.remote.dot-netty.tcp.hostname = \"h\nx = 1\n")] // an unclosed string
    [InlineData("akka.loglevel =\n")]                             // a key without a value
    [InlineData("x = ${missing}\n")]                              // an unresolved substitution
    [InlineData("akka.cluster.seed-nodes = [ \n")]                // an unclosed list
    public void Load_FileThatDoesNotParse_NamesTheFile(string text)
    {
        var file = Path.Combine(_dir, "broken.conf");
        File.WriteAllText(file, text);
        var error = Assert.Throws<HoconConfigurationException>(() => AkkaConfigLoader.Load(Repo() with { ConfigFile = file }, environment: NoEnvironment));
        Assert.Contains(file, error.Message);
        Assert.Contains("does not parse", error.Message);
    }

    [Theory]
    [InlineData("a = \"{ not a brace\" # } neither\nb { c = [1, 2] } // ]")]
    [InlineData("a = \"\"\"multi\n{ line\"\"\"\n")]
    public void Unbalanced_BracketsInStringsAndComments_AreIgnored(string text) => Assert.Null(AkkaConfigLoader.Unbalanced(text));

    [Fact]
    public void Load_UnknownEnvironment_NamesTheOptionAndFile()
    {
        var error = Assert.Throws<HoconConfigurationException>(() => AkkaConfigLoader.Load(Repo("staging"), environment: NoEnvironment));
        Assert.Contains("staging.conf", error.Message);
        Assert.Contains("'Akka:Environment'", error.Message);
    }

    [Fact]
    public void Validate_Options_BadSystemName_NamesTheKey() =>
        Assert.Contains("'Akka:SystemName'", Assert.ThrowsAny<ArgumentException>(() => new AkkaOptions { SystemName = "s p" }.Validate()).Message);
}
