using System.Text;
using System.Text.RegularExpressions;
using StreamPersonalization.Core.Shards;

namespace StreamPersonalization.Core.Privacy;

/// <summary>
/// Keeps raw user ids out of <c>dead-letter</c> when pseudonymisation is on, while keeping the record otherwise
/// intact for diagnosis: the key becomes its pseudonym, every occurrence of the raw key in the value is replaced by
/// the pseudonym, and so is every <c>"user_id": "…"</c> string (which may differ from the key). Header
/// <c>sp-redacted: user_id</c> says so. Bytes that cannot be recognised as an id (random garbage) are kept.
/// </summary>
public static partial class DeadLetterRedactor
{
    /// <summary>Header added to redacted dead letters.</summary>
    public const string Header = "sp-redacted";

    /// <summary>The record with its user ids replaced by <paramref name="pseudonym"/>.</summary>
    public static InputRecord Redact(InputRecord record, Func<string, string> pseudonym)
    {
        var value = record.Value;
        string? rawKey = null, keyPseudonym = null;
        if (record.Key is { Length: > 0 } key)
        {
            rawKey = Encoding.UTF8.GetString(key);
            keyPseudonym = pseudonym(rawKey);
            value = Replace(value, key, Encoding.UTF8.GetBytes(keyPseudonym));
        }
        var text = Encoding.Latin1.GetString(value);   // byte-preserving: invalid UTF-8 stays as it was
        var redacted = UserIdField().Replace(text, m =>
        {
            var id = Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(m.Groups[2].Value));
            if (id == keyPseudonym) return m.Value;   // the key's occurrence, replaced above
            return m.Groups[1].Value + Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(pseudonym(id))) + "\"";
        });
        var headers = new List<KeyValuePair<string, byte[]>>(record.Headers ?? []) { new(Header, "user_id"u8.ToArray()) };
        return record with
        {
            Key = keyPseudonym is null ? record.Key : Encoding.UTF8.GetBytes(keyPseudonym),
            Value = Encoding.Latin1.GetBytes(redacted),
            Headers = headers,
        };
    }

    private static byte[] Replace(byte[] value, byte[] find, byte[] with)
    {
        var at = value.AsSpan().IndexOf(find);
        if (at < 0) return value;
        var result = new List<byte>(value.Length + 64);
        var rest = value.AsSpan();
        while ((at = rest.IndexOf(find)) >= 0)
        {
            result.AddRange(rest[..at]);
            result.AddRange(with);
            rest = rest[(at + find.Length)..];
        }
        result.AddRange(rest);
        return [.. result];
    }

    [GeneratedRegex("(\"user_id\"\\s*:\\s*\")((?:[^\"\\\\]|\\\\.)*)\"")]
    private static partial Regex UserIdField();
}
