using System.Globalization;
using System.Text;
using Akka.Configuration;

namespace StreamPersonalization.Runtime.Hocon;

/// <summary>
/// Builds a node's Akka configuration from <c>hocon/</c>, in layers (each over the one before):
/// <c>akka.conf</c>; <c>&lt;Environment&gt;.conf</c>; <see cref="AkkaOptions.ConfigFile"/>; the environment variables
/// <c>SP_AKKA_HOSTNAME</c>, <c>SP_AKKA_PUBLIC_HOSTNAME</c>, <c>SP_AKKA_PORT</c>, <c>SP_AKKA_SEEDS</c> (comma-separated
/// <c>akka.tcp://sp@host:port</c>); then the caller's overrides (tests, command-line flags). The result is validated
/// (<see cref="AkkaConfigValidator"/>): a bad value or a file that does not parse fails with the key or file named.
/// </summary>
public static class AkkaConfigLoader
{
    /// <summary>Environment variables read, and the HOCON key each one sets.</summary>
    public static IReadOnlyDictionary<string, string> EnvironmentKeys { get; } = new Dictionary<string, string>
    {
        ["SP_AKKA_HOSTNAME"] = "akka.remote.dot-netty.tcp.hostname",
        ["SP_AKKA_PUBLIC_HOSTNAME"] = "akka.remote.dot-netty.tcp.public-hostname",
        ["SP_AKKA_PORT"] = "akka.remote.dot-netty.tcp.port",
        ["SP_AKKA_SEEDS"] = "akka.cluster.seed-nodes",
    };

    /// <param name="overrides">HOCON key → value, applied last (a list value as comma-separated text for seed-nodes).</param>
    /// <param name="environment">Environment variable lookup (default: the process's).</param>
    /// <exception cref="HoconConfigurationException">A file is missing or does not parse, or a value is invalid.</exception>
    public static Config Load(AkkaOptions options, IReadOnlyDictionary<string, string>? overrides = null, Func<string, string?>? environment = null)
    {
        options.Validate();
        environment ??= System.Environment.GetEnvironmentVariable;
        var dir = Path.GetFullPath(options.HoconDirectory);
        var layers = new List<Config> { ParseFile(Path.Combine(dir, "akka.conf"), "Akka:HoconDirectory") };
        layers.Add(ParseFile(Path.Combine(dir, options.Environment + ".conf"), "Akka:Environment"));
        if (!string.IsNullOrWhiteSpace(options.ConfigFile)) layers.Add(ParseFile(Path.GetFullPath(options.ConfigFile), "Akka:ConfigFile"));

        var fromEnvironment = new Dictionary<string, string>();
        foreach (var (variable, key) in EnvironmentKeys)
            if (environment(variable) is { Length: > 0 } value) fromEnvironment[key] = value;
        layers.Add(FromKeys(fromEnvironment, "environment variable"));
        if (overrides is { Count: > 0 }) layers.Add(FromKeys(overrides, "override"));

        var config = layers[^1];
        for (var i = layers.Count - 2; i >= 0; i--) config = config.WithFallback(layers[i]);
        return AkkaConfigValidator.Validate(config, options.SystemName);
    }

    private static Config ParseFile(string path, string optionKey)
    {
        if (!File.Exists(path))
            throw new HoconConfigurationException($"HOCON file '{path}' not found (from '{optionKey}').");
        var text = File.ReadAllText(path);
        Config parsed;
        try
        {
            parsed = ConfigurationFactory.ParseString(text);
        }
        catch (Exception e) when (e is not HoconConfigurationException)
        {
            throw new HoconConfigurationException($"HOCON file '{path}' does not parse: {e.Message}", e);
        }
        // Akka's parser is lenient: an unclosed brace or a key without a value parses. Refuse both here.
        if (Unbalanced(text) is { } problem)
            throw new HoconConfigurationException($"HOCON file '{path}' does not parse: {problem}.");
        if (KeyWithoutValue(text) is { } line)
            throw new HoconConfigurationException($"HOCON file '{path}' does not parse: the key on line {line} has no value.");
        return parsed;
    }

    /// <summary>Braces and brackets outside strings and comments must pair up; returns what is wrong, or null.</summary>
    internal static string? Unbalanced(string text)
    {
        var open = new Stack<(char Bracket, int Line)>();
        var line = 1;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\n') { line++; continue; }
            if (c == '#' || (c == '/' && i + 1 < text.Length && text[i + 1] == '/'))
            {
                while (i + 1 < text.Length && text[i + 1] != '\n') i++;
                continue;
            }
            if (c == '"')
            {
                var triple = i + 2 < text.Length && text[i + 1] == '"' && text[i + 2] == '"';
                var end = triple ? text.IndexOf("\"\"\"", i + 3, StringComparison.Ordinal) : IndexOfClosingQuote(text, i + 1);
                if (end < 0) return $"a string opened on line {line} is not closed";
                for (var j = i; j < end; j++) if (text[j] == '\n') line++;
                i = triple ? end + 2 : end;
                continue;
            }
            if (c is '{' or '[') open.Push((c, line));
            else if (c is '}' or ']')
            {
                if (open.Count == 0 || open.Pop().Bracket != (c == '}' ? '{' : '[')) return $"'{c}' on line {line} closes nothing";
            }
        }
        return open.Count == 0 ? null : $"'{open.Peek().Bracket}' opened on line {open.Peek().Line} is not closed";
    }

    /// <summary>The first line of the form <c>key =</c> (or <c>key :</c>) with nothing after it but a comment, or null.</summary>
    internal static int? KeyWithoutValue(string text)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
            if (System.Text.RegularExpressions.Regex.IsMatch(lines[i], @"^\s*[A-Za-z0-9_.\-""]+\s*[=:]\s*((#|//).*)?\r?$")) return i + 1;
        return null;
    }

    private static int IndexOfClosingQuote(string text, int from)
    {
        for (var i = from; i < text.Length; i++)
        {
            if (text[i] == '\\') { i++; continue; }
            if (text[i] == '"') return i;
            if (text[i] == '\n') return -1;
        }
        return -1;
    }

    /// <summary>One layer from key/value pairs; values are quoted (a seed list becomes a HOCON array).</summary>
    private static Config FromKeys(IReadOnlyDictionary<string, string> values, string what)
    {
        var text = new StringBuilder();
        foreach (var (key, value) in values)
        {
            if (!key.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
                throw new HoconConfigurationException($"HOCON key '{key}' ({what}) is not a plain dotted path.");
            text.Append(key).Append(" = ");
            if (key == "akka.cluster.seed-nodes")
                text.Append('[').AppendJoin(", ", value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Quote)).Append(']');
            else if (key.EndsWith(".port", StringComparison.Ordinal))
            {
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port))
                    throw new HoconConfigurationException($"HOCON key '{key}' ({what}) is '{value}'; allowed: a TCP port 0..65535.");
                text.Append(port.ToString(CultureInfo.InvariantCulture));
            }
            else text.Append(Quote(value));
            text.AppendLine();
        }
        return ConfigurationFactory.ParseString(text.ToString());
    }

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}

/// <summary>The Akka configuration cannot be used: the message names the HOCON key or file and what is allowed.</summary>
public sealed class HoconConfigurationException(string message, Exception? inner = null) : Exception(message, inner);
