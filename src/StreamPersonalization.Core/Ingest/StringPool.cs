using System.Text;

namespace StreamPersonalization.Core.Ingest;

/// <summary>
/// Interns short, low-cardinality UTF-8 strings (device, country, type names) so that millions of
/// events share one instance each: no allocation per event and fewer bytes per resident entity.
/// Bounded: once <see cref="Capacity"/> distinct values are held, new values are returned un-pooled.
/// Not thread-safe; each shard owns one.
/// </summary>
public sealed class StringPool(int capacity = 4096, int maxLength = 64)
{
    private readonly Dictionary<string, string> _pool = new(StringComparer.Ordinal);

    public int Capacity { get; } = capacity;

    public int Count => _pool.Count;

    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > maxLength) return Encoding.UTF8.GetString(utf8);
        Span<char> chars = stackalloc char[maxLength];
        var n = Encoding.UTF8.GetChars(utf8, chars);
        return Get(chars[..n]);
    }

    public string Get(ReadOnlySpan<char> chars)
    {
        var lookup = _pool.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(chars, out var existing)) return existing;
        var s = chars.ToString();
        if (_pool.Count < Capacity) _pool[s] = s;
        return s;
    }
}
