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
/// matches the one a valid event gets) or a number (its text is the id). Past the point where the JSON breaks
/// (truncated, invalid), patterns catch the remaining plain <c>"user_id": "…"</c> and <c>"user_id": 123</c> members.
/// </remarks>
public static partial class DeadLetterRedactor
{
    /// <summary>Header added to redacted dead letters.</summary>
    public const string Header = "sp-redacted";

    /// <summary>The record with its user ids replaced by <paramref name="pseudonym"/>.</summary>
    public static InputRecord Redact(InputRecord record, Func<string, string> pseudonym)
    {
        var value = record.Value;
        var produced = new HashSet<string>(StringComparer.Ordinal);
        string? keyPseudonym = null;
        if (record.Key is { Length: > 0 } key)
        {
            keyPseudonym = pseudonym(Encoding.UTF8.GetString(key));
            produced.Add(keyPseudonym);
            value = Replace(value, key, Encoding.UTF8.GetBytes(keyPseudonym));
        }
        value = RedactJsonMembers(value, pseudonym, produced);
        var text = Encoding.Latin1.GetString(value);   // byte-preserving: invalid UTF-8 stays as it was
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

    /// <summary>Replaces the values of <c>user_id</c> members found by a JSON reader, up to where the JSON breaks.</summary>
    private static byte[] RedactJsonMembers(byte[] value, Func<string, string> pseudonym, HashSet<string> produced)
    {
        var found = new List<(int Start, int Length, string Id)>();
        var reader = new Utf8JsonReader(value, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName || !reader.ValueTextEquals("user_id"u8) || !reader.Read()) continue;
                if (reader.TokenType == JsonTokenType.String)
                    found.Add(((int)reader.TokenStartIndex, reader.ValueSpan.Length + 2, reader.GetString()!));
                else if (reader.TokenType == JsonTokenType.Number)
                    found.Add(((int)reader.TokenStartIndex, reader.ValueSpan.Length, Encoding.UTF8.GetString(reader.ValueSpan)));
            }
        }
        catch (JsonException) { }            // malformed from here on: the patterns take over
        catch (InvalidOperationException) { } // e.g. a string value that is not valid UTF-8
        found.RemoveAll(f => produced.Contains(f.Id));
        if (found.Count == 0) return value;
        var result = new List<byte>(value.Length + 64 * found.Count);
        var at = 0;
        foreach (var (start, length, id) in found)
        {
            result.AddRange(value.AsSpan(at, start - at));
            var p = pseudonym(id);
            produced.Add(p);
            result.Add((byte)'"');
            result.AddRange(Encoding.UTF8.GetBytes(p));
            result.Add((byte)'"');
            at = start + length;
        }
        result.AddRange(value.AsSpan(at));
        return [.. result];
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

    [GeneratedRegex("(\"user_id\"\\s*:\\s*)\"((?:[^\"\\\\]|\\\\.)*)\"")]
    private static partial Regex UserIdString();

    [GeneratedRegex("(\"user_id\"\\s*:\\s*)(-?[0-9][0-9.eE+-]*)")]
    private static partial Regex UserIdNumber();
}
