using System.Collections.Frozen;

namespace StreamPersonalization.Core.Privacy.Minimisation;

/// <summary>
/// The allowlist compiled for lookups without allocation: per event type one frozen set holding that type's names
/// and the "*" names; unknown (custom) types get the "*" set alone. Lookups take the name as a character span, so
/// a dropped name never becomes a string, and a kept name is the interned configuration string.
/// </summary>
public sealed class PropertyAllowlist
{
    private readonly FrozenDictionary<string, AllowedNames> _byType;
    private readonly AllowedNames _anyType;

    public PropertyAllowlist(PropertyAllowlistOptions options)
    {
        options.Validate();
        var common = options.Allowlist.TryGetValue(PropertyAllowlistOptions.AnyType, out var any) ? any : [];
        _anyType = new AllowedNames(common);
        _byType = options.Allowlist
            .Where(kv => kv.Key != PropertyAllowlistOptions.AnyType)
            .ToFrozenDictionary(kv => kv.Key, kv => new AllowedNames(kv.Value.Concat(common)), StringComparer.Ordinal);
    }

    /// <summary>The names allowed for <paramref name="eventType"/> (its own plus "*").</summary>
    public AllowedNames For(string eventType) => _byType.TryGetValue(eventType, out var names) ? names : _anyType;

    /// <summary>True when <paramref name="name"/> may be kept on an event of <paramref name="eventType"/>.</summary>
    public bool IsAllowed(string eventType, ReadOnlySpan<char> name) => For(eventType).TryGet(name, out _);
}

/// <summary>One event type's allowed property names.</summary>
public sealed class AllowedNames
{
    private readonly FrozenSet<string> _names;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    internal AllowedNames(IEnumerable<string> names)
    {
        _names = names.ToFrozenSet(StringComparer.Ordinal);
        _lookup = _names.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Count => _names.Count;

    /// <summary>Finds <paramref name="name"/>; <paramref name="canonical"/> is the configured string (no allocation).</summary>
    public bool TryGet(ReadOnlySpan<char> name, out string canonical) => _lookup.TryGetValue(name, out canonical!);
}
