using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using StreamPersonalization.Core.Shards;

namespace StreamPersonalization.Core.Privacy;

/// <summary>
/// Keeps raw user ids out of <c>dead-letter</c> when pseudonymisation is on, while keeping the record otherwise
/// intact for diagnosis: the key becomes its pseudonym, every occurrence of the raw key in the value is replaced by
/// the pseudonym, and so is every <c>user_id</c> value (which may differ from the key). Header
/// <c>sp-redacted: user_id</c> says so. Bytes that cannot be recognised as an id (random garbage) are kept.
/// </summary>
/// <remarks>
/// Two passes. A JSON reader walks the value as far as it is well-formed and finds <c>user_id</c> members however
/// the name is escaped (<c>"user\u005fid"</c>), with a string value (its unescaped text is the id, so the pseudonym
/// matches the one a valid event gets), a number (its text is the id) or an object or array (its raw text); a value
/// the input cuts off is redacted to the end. Past the point where the JSON breaks (invalid), patterns catch the
/// remaining plain <c>"user_id": "…</c> (closed or not) and <c>"user_id": 123</c> members.
/// </remarks>
public static partial class DeadLetterRedactor
{
    /// <summary>Header added to redacted dead letters.</summary>
    public const string Header = "sp-redacted";

    /// <summary>The record with its user ids replaced by <paramref name="pseudonym"/>.</summary>
    public static InputRecord Redact(InputRecord record, Func<string, string> pseudonym)
    {
        var produced = new HashSet<string>(StringComparer.Ordinal);
        byte[]? key = record.Key is { Length: > 0 } k ? k : null;
        string? keyPseudonym = null;
        if (key is not null)
        {
            keyPseudonym = pseudonym(Encoding.UTF8.GetString(key));
            produced.Add(keyPseudonym);
        }
        // Members are found on the original bytes (replacing the key first could break the JSON or rename members).
        var members = FindUserIdValues(record.Value);
        var value = new List<byte>(record.Value.Length + 64 * (members.Count + 1));
        var at = 0;
        foreach (var (start, length, id) in members)
        {
            value.AddRange(WithKeyReplaced(record.Value.AsSpan(at, start - at), key, keyPseudonym));
            var p = pseudonym(id);
            produced.Add(p);
            value.Add((byte)'"');
            value.AddRange(Encoding.UTF8.GetBytes(p));
            value.Add((byte)'"');
            at = start + length;
        }
        value.AddRange(WithKeyReplaced(record.Value.AsSpan(at), key, keyPseudonym));
        var text = Encoding.Latin1.GetString([.. value]);   // byte-preserving: invalid UTF-8 stays as it was
        text = UserIdString().Replace(text, m => Quoted(m, Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(m.Groups[2].Value)), pseudonym, produced));
        text = UserIdNumber().Replace(text, m => Quoted(m, m.Groups[2].Value, pseudonym, produced));
        var headers = new List<KeyValuePair<string, byte[]>>(record.Headers ?? []) { new(Header, "user_id"u8.ToArray()) };
        return record with
        {
            Key = keyPseudonym is null ? record.Key : Encoding.UTF8.GetBytes(keyPseudonym),
            Value = Encoding.Latin1.GetBytes(text),
            Headers = headers,
        };
    }

    /// <summary>A pattern match rewritten as <c>name: "pseudonym"</c>, unless the id already is one this redaction produced.</summary>
    private static string Quoted(Match m, string id, Func<string, string> pseudonym, HashSet<string> produced)
    {
        if (produced.Contains(id)) return m.Value;
        var p = pseudonym(id);
        produced.Add(p);
        return m.Groups[1].Value + "\"" + Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(p)) + "\"";
    }

    /// <summary>
    /// Spans (in order) of the values of <c>user_id</c> members, as far as the JSON is well-formed, with the id each
    /// holds: a string's unescaped text, a number's text, an object's or array's raw text; a value cut off by the
    /// end of the input (or broken) runs to the end, its id being whatever text is there.
    /// </summary>
    private static List<(int Start, int Length, string Id)> FindUserIdValues(byte[] value)
    {
        var found = new List<(int Start, int Length, string Id)>();
        var reader = new Utf8JsonReader(value, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var pendingValue = -1;   // where a user_id member's value begins, until that value has been read
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName || !reader.ValueTextEquals("user_id"u8)) continue;
                pendingValue = ValueStart(value, (int)reader.BytesConsumed);
                if (!reader.Read()) break;
                var start = (int)reader.TokenStartIndex;
                switch (reader.TokenType)
                {
                    case JsonTokenType.String:
                        found.Add((start, reader.ValueSpan.Length + 2, reader.GetString()!));
                        break;
                    case JsonTokenType.Number:
                        found.Add((start, reader.ValueSpan.Length, Encoding.UTF8.GetString(reader.ValueSpan)));
                        break;
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        reader.Skip();
                        var end = (int)reader.BytesConsumed;
                        found.Add((start, end - start, Encoding.UTF8.GetString(value, start, end - start)));
                        break;
                }
                pendingValue = -1;   // true, false and null hold no id
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Malformed from here on (the patterns take over), unless it broke inside a user_id value: redact to the end.
            if (pendingValue >= 0 && pendingValue < value.Length)
                found.Add((pendingValue, value.Length - pendingValue, Encoding.UTF8.GetString(value, pendingValue, value.Length - pendingValue).TrimStart('"')));
        }
        return found;
    }

    /// <summary>Index of the first byte after the name's closing quote, optional spaces, ':' and spaces.</summary>
    private static int ValueStart(byte[] value, int afterName)
    {
        var i = afterName;
        while (i < value.Length && value[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)':') i++;
        return i;
    }

    private static byte[] WithKeyReplaced(ReadOnlySpan<byte> segment, byte[]? key, string? keyPseudonym) =>
        key is null ? segment.ToArray() : Replace(segment.ToArray(), key, Encoding.UTF8.GetBytes(keyPseudonym!));

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

    [GeneratedRegex("(\"user_id\"\\s*:\\s*)\"((?:[^\"\\\\]|\\\\.)*)(?:\"|\\z)")]
    private static partial Regex UserIdString();

    [GeneratedRegex("(\"user_id\"\\s*:\\s*)(-?[0-9][0-9.eE+-]*)")]
    private static partial Regex UserIdNumber();
}
