using Microsoft.Extensions.Configuration;
using StreamPersonalization.Core.Segments;
using StreamPersonalization.Core.Shards;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Storage;
using StreamPersonalization.Storage.Postgres;
using StreamPersonalization.Storage.Sqlite;

namespace StreamPersonalization.Node.Hosting;

/// <summary>
/// Every setting a node needs, read once at start-up from (later wins) <c>config/appsettings.json</c>,
/// environment variables <c>SP__Section__Key</c>, and command-line overrides; validated before anything
/// starts, with messages that name the key.
/// </summary>
public sealed record NodeSettings(
    NodeOptions Node,
    KafkaOptions Kafka,
    ShardOptions Shards,
    string StorageProvider,
    SqliteStoreOptions Sqlite,
    PostgresStoreOptions Postgres,
    string SegmentsFile,
    string? ExperimentsFile,
    HttpOptions Http,
    Experiments.ExperimentOptions Experiments,
    Core.Experiments.Alerts.DetectorOptions Detectors,
    Core.Experiments.Alerts.DataQualityOptions DataQuality,
    PrivacySettings Privacy)
{
    /// <value>Private cohort metrics and their release schedule (section <c>Privacy:Cohorts</c>).</value>
    public Core.Privacy.Cohorts.CohortReleaseOptions Cohorts { get; init; } = new();

    /// <value>Where the node's Akka configuration comes from (section <c>Akka</c>; the Akka settings are HOCON in <c>hocon/</c>).</value>
    public Runtime.AkkaOptions Akka { get; init; } = new();

    public static NodeSettings Load(string? configFile, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var builder = new ConfigurationBuilder();
        var file = configFile ?? Path.Combine("config", "appsettings.json");
        if (File.Exists(file)) builder.AddJsonFile(Path.GetFullPath(file), optional: false);
        else if (configFile is not null) throw new FileNotFoundException($"Configuration file '{configFile}' does not exist.", configFile);
        builder.AddEnvironmentVariables("SP__");
        if (overrides is not null) builder.AddInMemoryCollection(overrides.Where(kv => kv.Value is not null));
        return From(builder.Build());
    }

    public static NodeSettings From(IConfiguration config)
    {
        var node = Bind<NodeOptions>(config, "Node");
        var sqlite = Bind<SqliteStoreOptions>(config, "Storage:Sqlite");
        if (config["Storage:Sqlite:Path"] is null) sqlite.Path = Path.Combine(node.DataDirectory, "sp.db");
        var settings = new NodeSettings(
            node,
            Bind<KafkaOptions>(config, "Kafka"),
            new ShardOptions
            {
                Ingest = Bind<Core.Ingest.DecoderOptions>(config, "Ingest"),
                Sessions = Bind<Core.Sessions.SessionOptions>(config, "Sessions"),
                Engagement = BindEngagement(config.GetSection("Engagement")),
                ReevaluationInterval = config.GetValue("Segments:ReevaluationInterval", TimeSpan.FromDays(1)),
                ReevaluationHorizon = config.GetValue("Segments:ReevaluationHorizon", TimeSpan.FromDays(90)),
                DuplicateWindow = config.GetValue("Shards:DuplicateWindow", new ShardOptions().DuplicateWindow),
            },
            config["Storage:Provider"] ?? "sqlite",
            sqlite,
            Bind<PostgresStoreOptions>(config, "Storage:Postgres"),
            config["Segments:File"] ?? Path.Combine("config", "segments.yaml"),
            ExperimentsFileFrom(config),
            Bind<HttpOptions>(config, "Http"),
            Bind<Experiments.ExperimentOptions>(config, "Experiments"),
            Bind<Core.Experiments.Alerts.DetectorOptions>(config, "Detectors"),
            Bind<Core.Experiments.Alerts.DataQualityOptions>(config, "DataQuality"),
            PrivacySettings.From(config))
        {
            Cohorts = global::StreamPersonalization.Node.Privacy.CohortSettings.Bind(config),
            Akka = Bind<Runtime.AkkaOptions>(config, "Akka"),
        };
        return settings;
    }

    /// <summary>Validates everything; <paramref name="embeddedKafka"/> allows an empty bootstrap list.</summary>
    public NodeSettings Validate(bool embeddedKafka)
    {
        Node.Validate();
        Kafka.Validate(embeddedKafka);
        Shards.Validate();
        Http.Validate();
        Experiments.Validate();
        Detectors.Validate();
        DataQuality.Validate();
        Privacy.Validate();
        Cohorts.Validate();
        Akka.Validate();
        if (!CheckpointStoreFactory.Providers.Contains(StorageProvider.ToLowerInvariant()))
            throw new ArgumentOutOfRangeException("Storage:Provider", StorageProvider, $"Configuration key 'Storage:Provider' is '{StorageProvider}'; allowed: {string.Join(", ", CheckpointStoreFactory.Providers)}.");
        if (StorageProvider.Equals("sqlite", StringComparison.OrdinalIgnoreCase)) Sqlite.Validate(); else Postgres.Validate();
        if (!File.Exists(SegmentsFile)) throw new FileNotFoundException($"Configuration key 'Segments:File': segment catalog '{SegmentsFile}' does not exist.", SegmentsFile);
        if (ExperimentsFile is not null && !File.Exists(ExperimentsFile))
            throw new FileNotFoundException($"Configuration key 'Experiments:File': experiment catalog '{ExperimentsFile}' does not exist (set it to \"\" to run without experiments).", ExperimentsFile);
        return this;
    }

    public SegmentCatalog LoadCatalog() => SegmentCatalogLoader.LoadFile(SegmentsFile);

    /// <summary>The experiment catalog, or null when no experiments file is configured or present (attribution off).</summary>
    public Core.Experiments.Definitions.ExperimentCatalog? LoadExperiments() =>
        ExperimentsFile is null ? null : Core.Experiments.Definitions.ExperimentCatalogLoader.LoadFile(ExperimentsFile);

    // An explicit Experiments:File must exist (Validate says so); the default file is optional; "" turns experiments off.
    private static string? ExperimentsFileFrom(IConfiguration config)
    {
        var configured = config["Experiments:File"];
        if (configured is not null) return configured.Length == 0 ? null : configured;
        var fallback = Path.Combine("config", "experiments.yaml");
        return File.Exists(fallback) ? fallback : null;
    }

    public Core.Checkpoints.ICheckpointStore CreateStore()
    {
        if (StorageProvider.Equals("sqlite", StringComparison.OrdinalIgnoreCase))
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(Sqlite.Path));
            if (dir is not null) Directory.CreateDirectory(dir);
        }
        return CheckpointStoreFactory.Create(StorageProvider, Sqlite, Postgres);
    }

    /// <summary>The sticky-assignment store on the same database as the checkpoints.</summary>
    public Core.Experiments.Assignment.IAssignmentStore CreateAssignmentStore() => CheckpointStoreFactory.CreateAssignmentStore(StorageProvider, Sqlite, Postgres);

    /// <summary>The admin definition store on the same database as the checkpoints.</summary>
    public Core.Experiments.Definitions.IExperimentDefinitionStore CreateDefinitionStore() => CheckpointStoreFactory.CreateDefinitionStore(StorageProvider, Sqlite, Postgres);

    /// <summary>The cohort release and privacy ledger store on the same database as the checkpoints.</summary>
    public Core.Privacy.Cohorts.ICohortReleaseStore CreateCohortReleaseStore() => CheckpointStoreFactory.CreateCohortReleaseStore(StorageProvider, Sqlite, Postgres);

    private static T Bind<T>(IConfiguration config, string section) where T : new()
    {
        var value = new T();
        config.GetSection(section).Bind(value, o => o.ErrorOnUnknownConfiguration = true);
        return value;
    }

    // Weights replace the defaults only when the section is present, and then type by type.
    private static Core.Engagement.EngagementOptions BindEngagement(IConfigurationSection section)
    {
        var defaults = new Core.Engagement.EngagementOptions();
        var weights = new Dictionary<string, double>(defaults.Weights);
        foreach (var child in section.GetSection("Weights").GetChildren())
        {
            if (!double.TryParse(child.Value, System.Globalization.CultureInfo.InvariantCulture, out var w))
                throw new ArgumentException($"Configuration key 'Engagement:Weights:{child.Key}' is '{child.Value}'; allowed: a number.", $"Engagement:Weights:{child.Key}");
            weights[child.Key] = w;
        }
        return defaults with
        {
            HalfLife = section.GetValue("HalfLife", defaults.HalfLife),
            Weights = weights,
        };
    }
}
