using System.Runtime.CompilerServices;
using System.Text.Json;

namespace StreamPersonalization.Core.Privacy.Minimisation;

/// <summary>
/// The minimisation rules applied token by token inside another reader's walk (the ingest decoder's first pass),
/// and by <see cref="PropertyFilter.FilterJson"/> (one definition of the rules): a name not allowlisted, an object or
/// array, a number outside the double range, or a string that looks like PII is dropped with that reason.
/// </summary>
[SkipLocalsInit]
internal static class PropertyWalk
{
    private const int StackChars = 512;

    /// <summary>Whether the property name under the reader is allowlisted (unescaped first).</summary>
    public static bool NameAllowed(ref Utf8JsonReader reader, AllowedNames allowed)
    {
        // UTF-8 never has fewer bytes than UTF-16 chars: a short unescaped name fits the stack buffer.
        if (reader.ValueIsEscaped || reader.ValueSpan.Length > 128) return allowed.TryGet(reader.GetString(), out _);
        Span<char> name = stackalloc char[128];
        return allowed.TryGet(name[..reader.CopyString(name)], out _);
    }

    /// <summary>Why the value under the reader is dropped, or null when it is kept.</summary>
    public static PropertyDropReason? DropReason(ref Utf8JsonReader reader, bool nameAllowed, bool detectPii)
    {
        if (!nameAllowed) return PropertyDropReason.NotAllowlisted;
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject or JsonTokenType.StartArray:
                return PropertyDropReason.NotScalar;
            case JsonTokenType.Number:
                return reader.TryGetDouble(out var number) && double.IsFinite(number) ? null : PropertyDropReason.NotScalar;
            case JsonTokenType.String when detectPii:
                PiiKind kind;
                if (reader.ValueSpan.Length <= StackChars)   // unescaping never lengthens: it fits the stack
                {
                    Span<char> chars = stackalloc char[StackChars];
                    kind = PiiDetector.Detect(chars[..reader.CopyString(chars)]);
                }
                else kind = PiiDetector.Detect(reader.GetString());
                return kind == PiiKind.None ? null : kind.ToDropReason();
            default:
                return null;
        }
    }
}
