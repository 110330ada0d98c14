using System.Globalization;

namespace StreamPersonalization.Core.Ingest;

/// <summary>
/// Parses event timestamps to Unix milliseconds. The fast path is the canonical
/// <c>yyyy-MM-ddTHH:mm:ss[.fff…]Z</c>; anything else falls back to ISO-8601 with an offset.
/// Timestamps without a zone are rejected: guessing a zone would silently shift sessions.
/// </summary>
public static class TimestampParser
{
    /// <summary>Earliest accepted event time (1970-01-01) and latest (9999-12-31) in Unix ms.</summary>
    public const long MinMs = 0, MaxMs = 253_402_300_799_999;

    public static bool TryParseIso(ReadOnlySpan<byte> s, out long ms)
    {
        if (TryParseCanonical(s, out ms)) return true;
        Span<char> chars = stackalloc char[64];
        if (s.Length > chars.Length) { ms = 0; return false; }
        for (var i = 0; i < s.Length; i++) { if (s[i] > 127) { ms = 0; return false; } chars[i] = (char)s[i]; }
        var text = chars[..s.Length];
        if (text.Length < 20 || !(text[^1] == 'Z' || text[^6] is '+' or '-')) { ms = 0; return false; }
        // The gate above only looks at characters: "12:00:00.000 2026-03-01" passes it, and DateTimeOffset would read
        // such a zone-less text in the host's local zone. A DateTime parsed round-trip has Kind Unspecified iff no zone.
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var dto) &&
            DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var kind) && kind.Kind != DateTimeKind.Unspecified)
        {
            ms = dto.ToUnixTimeMilliseconds();
            return ms is >= MinMs and <= MaxMs;
        }
        ms = 0;
        return false;
    }

    // yyyy-MM-ddTHH:mm:ss(.f{1,9})?Z — digits checked, then calendar validated by DateTime's constructor rules.
    private static bool TryParseCanonical(ReadOnlySpan<byte> s, out long ms)
    {
        ms = 0;
        if (s.Length < 20 || s[^1] != (byte)'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return false;
        if (!Digits(s, 0, 4, out var year) || !Digits(s, 5, 2, out var month) || !Digits(s, 8, 2, out var day) ||
            !Digits(s, 11, 2, out var hour) || !Digits(s, 14, 2, out var minute) || !Digits(s, 17, 2, out var second)) return false;
        var fractionMs = 0;
        if (s.Length > 20)
        {
            if (s[19] != '.' || s.Length > 30 || s.Length < 22) return false;
            var digits = s.Length - 21;
            if (!Digits(s, 20, digits, out var frac)) return false;
            fractionMs = digits switch { 1 => frac * 100, 2 => frac * 10, 3 => frac, _ => (int)(frac / Pow10(digits - 3)) };
        }
        else if (s.Length != 20) return false;
        if (year < 1970 || month is < 1 or > 12 || hour > 23 || minute > 59 || second > 59) return false;
        if (day < 1 || day > DateTime.DaysInMonth(year, month)) return false;
        var days = new DateOnly(year, month, day).DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;
        ms = days * 86_400_000L + hour * 3_600_000L + minute * 60_000L + second * 1000L + fractionMs;
        return true;
    }

    private static long Pow10(int n) { long p = 1; while (n-- > 0) p *= 10; return p; }

    private static bool Digits(ReadOnlySpan<byte> s, int start, int count, out int value)
    {
        long v = 0;
        for (var i = start; i < start + count; i++)
        {
            var d = s[i] - (byte)'0';
            if ((uint)d > 9) { value = 0; return false; }
            v = v * 10 + d;
        }
        value = (int)Math.Min(v, int.MaxValue);
        return true;
    }

    /// <summary>Formats Unix ms as <c>yyyy-MM-ddTHH:mm:ss.fffZ</c>.</summary>
    public static string Format(long ms) =>
        DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
