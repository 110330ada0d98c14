namespace StreamPersonalization.Runtime;

/// <summary>Where a node's Akka configuration comes from (configuration section <c>Akka</c> of appsettings.json).
/// The Akka settings themselves (remoting, cluster, split-brain resolver, sharding, dispatchers, serializers) are HOCON
/// in <c>hocon/</c>; see <see cref="Hocon.AkkaConfigLoader"/>.</summary>
public sealed record AkkaOptions
{
    /// <value>Name of the ActorSystem; every node of one cluster must use the same. Default "sp".</value>
    public string SystemName { get; init; } = "sp";

    /// <value>Folder with <c>akka.conf</c> and the per-environment files, relative to the working directory or absolute.
    /// Default "hocon".</value>
    public string HoconDirectory { get; init; } = "hocon";

    /// <value>Per-environment override: <c>hocon/&lt;Environment&gt;.conf</c>. Default "development"; "production" in deploy/.</value>
    public string Environment { get; init; } = "development";

    /// <value>A deployment's own HOCON file, layered over the environment file (empty: none). Default "".</value>
    public string ConfigFile { get; init; } = "";

    public AkkaOptions Validate()
    {
        Require(!string.IsNullOrWhiteSpace(SystemName) && SystemName.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'),
            "Akka:SystemName", SystemName, "letters, digits, '-' and '_'");
        Require(!string.IsNullOrWhiteSpace(HoconDirectory), "Akka:HoconDirectory", HoconDirectory, "a folder with akka.conf");
        Require(!string.IsNullOrWhiteSpace(Environment) && Environment.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'),
            "Akka:Environment", Environment, "the name of a file hocon/<name>.conf (letters, digits, '-', '_')");
        return this;
    }

    internal static void Require(bool ok, string key, object? value, string allowed)
    {
        if (!ok) throw new ArgumentOutOfRangeException(key, value, $"Configuration key '{key}' is '{value}'; allowed: {allowed}.");
    }
}
