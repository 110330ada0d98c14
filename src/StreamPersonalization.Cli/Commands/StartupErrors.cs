using StreamPersonalization.Core.Segments;
using StreamPersonalization.Node.Hosting;

namespace StreamPersonalization.Cli.Commands;

/// <summary>
/// Loads and validates settings for a verb; a configuration mistake is reported as one line naming the
/// key (exit code 2) instead of a stack trace.
/// </summary>
internal static class StartupErrors
{
    public const int ConfigurationError = 2;

    public static bool TryLoad(Func<NodeSettings> load, out NodeSettings settings)
    {
        try
        {
            settings = load();
            return KafkaLoads();
        }
        catch (Exception ex) when (ex is ArgumentException or FileNotFoundException or InvalidOperationException or SegmentCatalogException
                                       or Storage.OptionsValidationException or FormatException)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            settings = null!;
            return false;
        }
    }

    /// <summary>Loads and validates the node's Akka configuration (hocon/, SP_AKKA_* variables, <paramref name="overrides"/>);
    /// a bad value is reported naming the HOCON key or file (exit code 2).</summary>
    public static bool TryLoadAkka(NodeSettings settings, IReadOnlyDictionary<string, string> overrides, out Akka.Configuration.Config config)
    {
        try
        {
            config = Runtime.Hocon.AkkaConfigLoader.Load(settings.Akka, overrides);
            Runtime.Hocon.AkkaConfigValidator.RequireDrainTime(config, settings.Node.ShutdownTimeout);
            return true;
        }
        catch (Exception ex) when (ex is Runtime.Hocon.HoconConfigurationException or ArgumentException)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            config = null!;
            return false;
        }
    }

    /// <summary>Loads librdkafka (from the librdkafka.redist package) before a verb starts; where no build of it loads on
    /// this machine, prints which files were tried and what each is missing, and returns false (exit code 2).</summary>
    public static bool KafkaLoads()
    {
        try
        {
            Kafka.Native.KafkaNativeLibrary.EnsureLoaded();
            return true;
        }
        catch (Kafka.Native.KafkaNativeLibraryException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return false;
        }
    }
}
