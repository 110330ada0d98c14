namespace StreamPersonalization.Core.Privacy.Minimisation;

/// <summary>
/// Data minimisation at ingest (configuration section <c>Privacy:Properties</c>). Example:
/// <code>
/// "Properties": { "Enabled": true, "DetectPii": true,
///                 "Allowlist": { "*": [ "campaign" ], "page_view": [ "referrer_domain", "section" ], "purchase": [ "currency", "items" ] } }
/// </code>
/// A property is kept only when its name is listed for the event's type or under "*" (every type), its value is a
/// scalar, and (with <see cref="DetectPii"/>) a string value holds no e-mail address, phone number or IP address.
/// </summary>
public sealed record PropertyAllowlistOptions
{
    /// <summary>Key under <see cref="Allowlist"/> whose names are allowed for every event type.</summary>
    public const string AnyType = "*";

    /// <summary>Longest allowlisted property name; longer names on the wire are never looked up.</summary>
    public const int MaxNameLength = 128;

    /// <value>Apply the allowlist at decode time. Default false (every property is skipped unread, as before).</value>
    public bool Enabled { get; init; }

    /// <value>Drop allowlisted string values that contain an e-mail address, phone number or IP address. Default true.</value>
    public bool DetectPii { get; init; } = true;

    /// <value>Event type (wire name, or "*") → property names kept for it. Default empty: with Enabled, every property is dropped.</value>
    public Dictionary<string, string[]> Allowlist { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Throws <see cref="ArgumentException"/> naming the configuration key and what is allowed.</summary>
    public PropertyAllowlistOptions Validate()
    {
        foreach (var (type, names) in Allowlist)
        {
            if (string.IsNullOrWhiteSpace(type) || type.Length > 64)
                Fail("Privacy:Properties:Allowlist", $"has event type '{type}'; allowed: a wire type name of 1-64 characters, or \"*\"");
            var key = $"Privacy:Properties:Allowlist:{type}";
            if (names is null) Fail(key, "is null; give a list of property names (may be empty)");
            foreach (var name in names!)
                if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength)
                    Fail(key, $"contains the name '{name}'; allowed: 1-{MaxNameLength} characters");
        }
        return this;
    }

    private static void Fail(string key, string message) => throw new ArgumentException($"Configuration key '{key}' {message}.", key);

    public override string ToString() =>
        $"PropertyAllowlistOptions(Enabled={Enabled}, DetectPii={DetectPii}, Allowlist={{{string.Join("; ", Allowlist.Select(kv => $"{kv.Key}: {string.Join(",", kv.Value)}"))}}})";
}
