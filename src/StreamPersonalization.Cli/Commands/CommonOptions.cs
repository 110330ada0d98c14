using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace StreamPersonalization.Cli.Commands;

/// <summary>Options shared by several verbs, and their parsers.</summary>
internal static class CommonOptions
{
    public static Option<string?> Config() => new("--config")
    {
        Description = "Configuration file (JSON). Default: config/appsettings.json when present. Environment variables SP__Section__Key override it; --set overrides both.",
    };

    public static Option<string[]> Set() => new("--set")
    {
        Description = "Override one configuration key, e.g. --set Node:CheckpointInterval=00:00:02 (repeatable).",
        AllowMultipleArgumentsPerToken = false,
    };

    public static Option<TimeSpan?> Duration(string description) => new("--duration")
    {
        Description = description + " Accepts 30s, 5m, 1h or hh:mm:ss.",
        CustomParser = r => ParseDuration(r),
    };

    public static Option<string?> Bootstrap(string description) => new("--bootstrap") { Description = description };

    /// <summary>Akka remoting and joining flags of <c>run</c> and <c>demo</c>; they override hocon/ and SP_AKKA_* variables.</summary>
    public sealed record AkkaFlags(Option<string?> Host, Option<int?> Port, Option<string?> Seeds)
    {
        public Dictionary<string, string> Overrides(ParseResult parse)
        {
            var result = new Dictionary<string, string>();
            if (parse.GetValue(Host) is { } host) result["akka.remote.dot-netty.tcp.hostname"] = host;
            if (parse.GetValue(Port) is { } port) result["akka.remote.dot-netty.tcp.port"] = port.ToString(CultureInfo.InvariantCulture);
            if (parse.GetValue(Seeds) is { } seeds) result["akka.cluster.seed-nodes"] = seeds;
            return result;
        }
    }

    public static AkkaFlags AkkaOptions(int? defaultPort = null) => new(
        new Option<string?>("--akka-host") { Description = "Host Akka remoting binds (akka.remote.dot-netty.tcp.hostname; env SP_AKKA_HOSTNAME). Default from hocon/: 127.0.0.1." },
        new Option<int?>("--akka-port")
        {
            Description = "Akka remoting TCP port (akka.remote.dot-netty.tcp.port; env SP_AKKA_PORT); 0 picks a free one. Default from hocon/: 4053" +
                          (defaultPort is { } p ? $"; this verb: {p}." : "."),
            DefaultValueFactory = defaultPort is { } d ? _ => d : null!,
        },
        new Option<string?>("--seeds") { Description = "Comma-separated seed nodes, e.g. akka.tcp://sp@10.0.0.5:4053 (akka.cluster.seed-nodes; env SP_AKKA_SEEDS). None: the node forms a one-node cluster unless discovery is on." });

    public static TimeSpan? ParseDuration(ArgumentResult r)
    {
        var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        if (TryParseDuration(text, out var d)) return d;
        r.AddError($"'{text}' is not a duration; use e.g. 30s, 5m, 1h or 00:01:30.");
        return null;
    }

    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var unit = text[^1];
        if (unit is 's' or 'm' or 'h' && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0)
        {
            value = unit switch { 's' => TimeSpan.FromSeconds(n), 'm' => TimeSpan.FromMinutes(n), _ => TimeSpan.FromHours(n) };
            return true;
        }
        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero;
    }

    /// <summary>Turns repeated "Key=Value" flags into configuration overrides.</summary>
    public static Dictionary<string, string?> Overrides(IEnumerable<string>? sets)
    {
        var result = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var s in sets ?? [])
        {
            var eq = s.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"--set '{s}' must have the form Section:Key=Value.");
            result[s[..eq].Trim()] = s[(eq + 1)..];
        }
        return result;
    }
}
