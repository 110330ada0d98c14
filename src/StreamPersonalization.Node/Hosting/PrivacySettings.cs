using System.Collections.Frozen;
using Microsoft.Extensions.Configuration;
using StreamPersonalization.Core.Privacy;
using StreamPersonalization.Core.Privacy.Minimisation;
using StreamPersonalization.Core.Privacy.Pseudonymization;

namespace StreamPersonalization.Node.Hosting;

/// <summary>
/// Configuration section <c>Privacy</c> (besides <c>Privacy:Cohorts</c>, bound by the cohort releaser): pseudonymisation
/// (<c>Mode</c>, <c>Pseudonymize</c>, <c>Key</c>/<c>KeyFile</c>, <c>KeyId</c>, <c>Format</c>), the property allowlist
/// (<c>Properties</c>), the retention limit and the markets where personalization is off. Built once at start-up;
/// the pseudonymizer is shared by every shard and the HTTP API, so a client's id and a clickstream id map to the same key.
/// </summary>
public sealed record PrivacySettings(PseudonymizationOptions Pseudonymization, bool Pseudonymize, PropertyAllowlistOptions Properties,
    int RetentionDays, IReadOnlyList<string> DisabledMarkets)
{
    private static readonly string[] Keys = ["Mode", "Pseudonymize", "Key", "KeyFile", "KeyId", "Format", "Properties", "RetentionDays", "DisabledMarkets", "Cohorts"];

    /// <summary>Reads the section; unknown keys are rejected with the allowed ones.</summary>
    public static PrivacySettings From(IConfiguration config)
    {
        var section = config.GetSection("Privacy");
        foreach (var child in section.GetChildren())
            if (!Keys.Contains(child.Key))
                throw new ArgumentException($"Configuration key 'Privacy:{child.Key}' is not known; allowed: {string.Join(", ", Keys)}.", $"Privacy:{child.Key}");
        var pseudonymization = new PseudonymizationOptions
        {
            Mode = section.GetValue("Mode", PrivacyMode.Development),
            Key = section["Key"] is { Length: > 0 } key ? key : null,
            KeyFile = section["KeyFile"] is { Length: > 0 } file ? file : null,
            KeyId = section["KeyId"] ?? "k1",
            Format = section.GetValue("Format", PseudonymFormat.Base64Url),
        };
        var properties = new PropertyAllowlistOptions();
        section.GetSection("Properties").Bind(properties, o => o.ErrorOnUnknownConfiguration = true);
        return new PrivacySettings(pseudonymization, section.GetValue("Pseudonymize", true), properties,
            section.GetValue("RetentionDays", 395), section.GetSection("DisabledMarkets").Get<string[]>() ?? []);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the key: Production needs pseudonymisation and a secret key.</summary>
    public PrivacySettings Validate()
    {
        Pseudonymization.Validate();
        Properties.Validate();
        if (Pseudonymization.Mode == PrivacyMode.Production && !Pseudonymize)
            throw new ArgumentException("Configuration key 'Privacy:Pseudonymize' is false, which Production mode (Privacy:Mode) does not allow; remove it or set it to true.", "Privacy:Pseudonymize");
        NodeOptions.Require(RetentionDays is >= 0 and <= 36_500, "Privacy:RetentionDays", RetentionDays, "0 (keep) or 1..36500 days");
        foreach (var m in DisabledMarkets)
            NodeOptions.Require(m.Length is >= 2 and <= 3 && m.All(char.IsAsciiLetter), "Privacy:DisabledMarkets", m, "ISO 3166 country codes, e.g. [\"FR\", \"DE\"]");
        using (CreatePseudonymizer()) { }   // a bad or unreadable key fails here, at start-up, naming its key
        return this;
    }

    /// <summary>The pseudonymizer (null when <see cref="Pseudonymize"/> is off); reads the key file.</summary>
    public UserIdPseudonymizer? CreatePseudonymizer() =>
        Pseudonymize ? UserIdPseudonymizer.FromOptions(Pseudonymization, File.ReadAllBytes) : null;

    /// <summary>What each user shard applies.</summary>
    public ShardPrivacy ShardPrivacy(UserIdPseudonymizer? pseudonymizer) => new()
    {
        Pseudonymizer = pseudonymizer,
        Properties = PropertyFilter.Create(Properties),
        RetentionMs = RetentionDays * 86_400_000L,
        DisabledMarkets = DisabledMarkets.ToFrozenSet(StringComparer.OrdinalIgnoreCase),
    };
}
