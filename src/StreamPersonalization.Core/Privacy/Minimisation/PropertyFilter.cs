using System.Runtime.CompilerServices;
using System.Text.Json;
using StreamPersonalization.Core.Ingest;

namespace StreamPersonalization.Core.Privacy.Minimisation;

/// <summary>
/// Applies the allowlist and the PII detector to one event's properties. Two entry points with the same rules:
/// <see cref="Filter(string, IEnumerable{EventProperty})"/> for properties already decoded, and
/// <see cref="FilterJson"/> for the raw UTF-8 <c>properties</c> object as the ingest decoder sees it, which never
/// materialises a dropped name or value as a string. Only top-level entries count: an allowlisted name whose value
/// is an object or array is dropped as <see cref="PropertyDropReason.NotScalar"/> without inspecting it.
/// Immutable and thread-safe.
/// </summary>
[SkipLocalsInit]   // the stack buffers are always written before they are read
public sealed class PropertyFilter
{
    // Names longer than this many UTF-8 bytes cannot unescape to ≤ 128 characters (at most 6 bytes per char as \uXXXX).
    private const int MaxNameBytes = PropertyAllowlistOptions.MaxNameLength * 6;

    // String values up to this many bytes are checked for PII on the stack before any string is created.
    private const int StackValueChars = 512;

    private readonly PropertyAllowlist _allowlist;
    private readonly bool _detectPii;

    public PropertyFilter(PropertyAllowlistOptions options)
    {
        _allowlist = new PropertyAllowlist(options);
        _detectPii = options.DetectPii;
        Options = options;
    }

    public PropertyAllowlistOptions Options { get; }

    /// <summary>The filter the options ask for, or null when <see cref="PropertyAllowlistOptions.Enabled"/> is false.</summary>
    public static PropertyFilter? Create(PropertyAllowlistOptions options) => options.Validate().Enabled ? new PropertyFilter(options) : null;

    /// <summary>The names allowed for events of wire type <paramref name="eventType"/> (the decoder's first-pass check).</summary>
    public AllowedNames AllowedFor(string eventType) => _allowlist.For(eventType);

    private static readonly PropertyFilterResult[] OnlyNotAllowlisted =
        [.. Enumerable.Range(0, 9).Select(n => n == 0 ? PropertyFilterResult.Empty : new PropertyFilterResult([], new PropertyDropCounts(n, 0, 0, 0, 0)))];

    /// <summary>A result with counts only (the decoder's single-pass path; shared instances for the common cases).</summary>
    public static PropertyFilterResult Dropped(PropertyDropCounts d, int keptCount) =>
        keptCount == 0 && d.Total == d.NotAllowlisted && d.NotAllowlisted < OnlyNotAllowlisted.Length
            ? OnlyNotAllowlisted[d.NotAllowlisted]
            : new PropertyFilterResult([], d) { KeptCount = keptCount };

    /// <summary>Minimises already-decoded properties of an event of wire type <paramref name="eventType"/>.</summary>
    public PropertyFilterResult Filter(string eventType, IEnumerable<EventProperty> properties)
    {
        var allowed = _allowlist.For(eventType);
        List<EventProperty>? kept = null;
        var dropped = new PropertyDropCounts();
        foreach (var p in properties)
        {
            if (!allowed.TryGet(p.Name, out var name)) { dropped = dropped.Add(PropertyDropReason.NotAllowlisted); continue; }
            if (p.Value.Kind == PropertyKind.Structured) { dropped = dropped.Add(PropertyDropReason.NotScalar); continue; }
            if (p.Value.Kind == PropertyKind.String && Pii(p.Value.Text) is { } reason) { dropped = dropped.Add(reason); continue; }
            (kept ??= []).Add(new EventProperty(name, p.Value));
        }
        return kept is null && dropped.Total == 0 ? PropertyFilterResult.Empty : new(kept ?? (IReadOnlyList<EventProperty>)[], dropped);
    }

    /// <summary>
    /// Minimises the raw <c>properties</c> object (<paramref name="json"/> must be exactly one JSON object, already
    /// validated by the caller's reader; malformed input throws <see cref="JsonException"/>). Kept string values come
    /// from <paramref name="pool"/> when given (the decoder passes its own), so repeated values are not reallocated.
    /// </summary>
    public PropertyFilterResult FilterJson(string eventType, ReadOnlySpan<byte> json, StringPool? pool = null)
    {
        var allowed = _allowlist.For(eventType);
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256 });
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("properties is not an object");
        var kept = new KeptProperties();
        var dropped = new PropertyDropCounts();
        Span<char> nameBuffer = stackalloc char[MaxNameBytes];
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var found = false;
            var name = "";
            if (reader.ValueSpan.Length <= MaxNameBytes)
            {
                var n = reader.CopyString(nameBuffer);
                found = allowed.TryGet(nameBuffer[..n], out name);
            }
            reader.Read();
            // The rules are PropertyWalk's (also the decoder's single pass): one definition of what is dropped and why.
            if (PropertyWalk.DropReason(ref reader, found, _detectPii) is { } reason)
            {
                dropped = dropped.Add(reason);
                reader.Skip();   // an object or array; a no-op on a scalar
                continue;
            }
            kept.Add(new EventProperty(name, reader.TokenType switch
            {
                JsonTokenType.String => PropertyValue.String(ReadString(ref reader, pool)),
                JsonTokenType.Number => PropertyValue.Of(reader.GetDouble()),   // finite: checked by the rules
                JsonTokenType.True or JsonTokenType.False => PropertyValue.Of(reader.GetBoolean()),
                _ => PropertyValue.Null,
            }));
        }
        return kept.Count == 0 && dropped.Total == 0 ? PropertyFilterResult.Empty : new(kept.ToArray(), dropped);
    }

    // A kept string: short ones through the stack (and the pool, so repeated values are not reallocated).
    private static string ReadString(ref Utf8JsonReader reader, StringPool? pool)
    {
        if (reader.ValueSpan.Length > StackValueChars) return reader.GetString()!;
        Span<char> buffer = stackalloc char[StackValueChars];
        var chars = buffer[..reader.CopyString(buffer)];
        return pool is null ? new string(chars) : pool.Get(chars);
    }

    private PropertyDropReason? Pii(string? text)
    {
        if (!_detectPii || text is null) return null;
        var kind = PiiDetector.Detect(text);
        return kind == PiiKind.None ? null : kind.ToDropReason();
    }

    public override string ToString() => $"PropertyFilter({Options})";

    // Collects kept properties without a List: up to four inline, more spill into an array; one exact-size array at the end.
    private struct KeptProperties
    {
        private Inline4 _inline;
        private List<EventProperty>? _spill;

        public int Count { get; private set; }

        public void Add(EventProperty p)
        {
            if (Count < 4) _inline[Count] = p;
            else (_spill ??= []).Add(p);
            Count++;
        }

        public EventProperty[] ToArray()
        {
            if (Count == 0) return [];
            var result = new EventProperty[Count];
            for (var i = 0; i < Math.Min(Count, 4); i++) result[i] = _inline[i];
            _spill?.CopyTo(result, 4);
            return result;
        }

        [InlineArray(4)]
        private struct Inline4
        {
            private EventProperty _element;
        }
    }
}
