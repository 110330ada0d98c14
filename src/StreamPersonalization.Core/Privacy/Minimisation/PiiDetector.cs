using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace StreamPersonalization.Core.Privacy.Minimisation;

/// <summary>Kind of personal data found in a string value.</summary>
public enum PiiKind { None, Email, Phone, IpAddress }

/// <summary>
/// Recognises e-mail addresses, phone numbers and IPv4/IPv6 addresses inside one property's string value (not in
/// names, not across the whole JSON). Hand-written scanners instead of regular expressions: each one is a single
/// pass, allocation-free, and its rules are visible here. It is a heuristic tuned to avoid dropping common non-PII
/// (dates, times, prices, versions, order ids, UUIDs, image names like icon@2x.png), so it can miss exotic formats;
/// the allowlist is the primary control, this a second net. Precedence when several match: e-mail, IP, phone.
/// </summary>
public static class PiiDetector
{
    // Shortest strings that can hold each kind: "a@b.co", "1.1.1.1" / "fe80::1", a 7-digit E.164 number.
    private const int MinEmailLength = 6, MinIpLength = 7, MinPhoneDigits = 7;

    // Suffixes that look like a TLD but name a file (retina assets "icon@2x.png", "logo@3x.webp").
    private static readonly string[] FileExtensions = ["png", "jpg", "jpeg", "gif", "svg", "webp", "avif", "bmp", "ico", "css", "js", "json", "pdf"];

    // Every kind needs one of these: '@' (e-mail), '.' or ':' (IP), a digit (phone, IP). Most values have none.
    private static readonly SearchValues<char> Markers = SearchValues.Create("@.:0123456789");

    /// <summary>The first kind of PII found in <paramref name="text"/>, or <see cref="PiiKind.None"/>.</summary>
    public static PiiKind Detect(ReadOnlySpan<char> text)
    {
        if (text.IndexOfAny(Markers) < 0) return PiiKind.None;
        if (text.Length >= MinEmailLength && text.Contains('@') && ContainsEmail(text)) return PiiKind.Email;
        if (text.Length >= MinIpLength && (ContainsIpv4(text) || ContainsIpv6(text))) return PiiKind.IpAddress;
        if (CountAsciiDigits(text) >= MinPhoneDigits && ContainsPhone(text)) return PiiKind.Phone;
        return PiiKind.None;
    }

    // ---- e-mail: local@label.label…tld, local part of [A-Za-z0-9._%+-] or letters, TLD of ≥ 2 letters (not a file extension)

    private static bool ContainsEmail(ReadOnlySpan<char> s)
    {
        for (var at = s.IndexOf('@'); at >= 0; at = NextIndexOf(s, '@', at + 1))
        {
            var start = at;
            while (start > 0 && IsLocalChar(s[start - 1])) start--;
            while (start < at && s[start] == '.') start++;
            if (start == at || s[at - 1] == '.' || at - start > 64) continue;
            var end = at + 1;
            while (end < s.Length && (char.IsLetterOrDigit(s[end]) || s[end] is '.' or '-')) end++;
            while (end > at + 1 && s[end - 1] is '.' or '-') end--;   // "write to a@b.com." ends a sentence
            if (IsDomain(s[(at + 1)..end])) return true;
        }
        return false;
    }

    private static bool IsLocalChar(char c) => char.IsLetterOrDigit(c) || c is '.' or '_' or '%' or '+' or '-';

    private static bool IsDomain(ReadOnlySpan<char> d)
    {
        var labels = 0;
        ReadOnlySpan<char> last = default;
        foreach (var range in d.Split('.'))
        {
            var label = d[range];
            if (label.IsEmpty || label.Length > 63 || label[0] == '-' || label[^1] == '-') return false;
            labels++;
            last = label;
        }
        if (labels < 2 || last.Length < 2) return false;
        foreach (var c in last) if (!char.IsLetter(c)) return false;
        foreach (var ext in FileExtensions) if (last.Equals(ext, StringComparison.OrdinalIgnoreCase)) return false;
        return true;
    }

    // ---- IPv4: four dot-separated decimal octets 0–255 without leading zeros, not glued to letters/digits ("v1.2.3.4")

    private static bool ContainsIpv4(ReadOnlySpan<char> s)
    {
        if (!s.Contains('.')) return false;
        var i = 0;
        while (i < s.Length)
        {
            if (!IsAsciiDigit(s[i])) { i++; continue; }
            var start = i;
            while (i < s.Length && (IsAsciiDigit(s[i]) || s[i] == '.')) i++;
            var end = i;
            if (end > start && s[end - 1] == '.') end--;   // sentence end
            if (start > 0 && (char.IsLetterOrDigit(s[start - 1]) || s[start - 1] is '.' or '_')) continue;
            if (i < s.Length && (char.IsLetter(s[i]) || s[i] == '_')) continue;
            if (IsIpv4(s[start..end])) return true;
        }
        return false;
    }

    private static bool IsIpv4(ReadOnlySpan<char> run)
    {
        var octets = 0;
        foreach (var range in run.Split('.'))
        {
            var o = run[range];
            if (o.IsEmpty || o.Length > 3 || (o.Length > 1 && o[0] == '0')) return false;
            var value = 0;
            foreach (var c in o) value = value * 10 + (c - '0');
            if (value > 255 || ++octets > 4) return false;
        }
        return octets == 4;
    }

    // ---- IPv6: a run of hex digits and ':' (plus '.' for an embedded IPv4 tail) that the BCL parses as IPv6,
    // with at least two non-empty groups and one decimal digit ("dead::beef", "Foo::Bar" and times are not addresses)

    private static bool ContainsIpv6(ReadOnlySpan<char> s)
    {
        if (s.Count(':') < 2) return false;
        var i = 0;
        while (i < s.Length)
        {
            if (!IsIpv6Char(s[i])) { i++; continue; }
            var start = i;
            while (i < s.Length && IsIpv6Char(s[i])) i++;
            var run = s[start..i];
            if (start > 0 && (char.IsLetterOrDigit(s[start - 1]) || s[start - 1] == '_')) continue;
            if (i < s.Length && (char.IsLetterOrDigit(s[i]) || s[i] == '_')) continue;
            if (run.Count(':') < 2 || run.IndexOfAnyInRange('0', '9') < 0) continue;
            var groups = 0;
            foreach (var range in run.Split(':')) if (!run[range].IsEmpty) groups++;
            if (groups >= 2 && IPAddress.TryParse(run, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6) return true;
        }
        return false;
    }

    private static bool IsIpv6Char(char c) => char.IsAsciiHexDigit(c) || c is ':' or '.';

    // ---- phone: a run of digits and separators (space - . ( ) with an optional leading +), whitespace- or
    // punctuation-delimited (not "ORD-12345678"), in one of three shapes:
    //   +CC…   7–15 digits (E.164);
    //   0…     9–13 digits starting with a trunk or international prefix ("030 1234567", "01 23 45 67 89", "01711234567");
    //   other  9–13 digits in ≥ 3 groups whose last group has ≥ 3 digits ("555-123-4567", "(555) 123-4567").
    // Not a phone: plain digit strings without a 0 prefix (ids, epoch times), dates (yyyy-mm-dd, dd.mm.yyyy),
    // decimals with one '.', dotted quads, more than 15 digits (card numbers, long ids).

    private static bool ContainsPhone(ReadOnlySpan<char> s)
    {
        var i = 0;
        while (i < s.Length)
        {
            if (!IsPhoneChar(s[i])) { i++; continue; }
            var runStart = i;
            while (i < s.Length && IsPhoneChar(s[i])) i++;
            var runEnd = i;
            var start = runStart;
            while (start < runEnd && !(IsAsciiDigit(s[start]) || s[start] is '+' or '(')) start++;
            var end = runEnd;
            while (end > start && !(IsAsciiDigit(s[end - 1]) || s[end - 1] == ')')) end--;
            if (end <= start) continue;
            if (GluedToWord(s, runStart, start, before: true) || GluedToWord(s, end, runEnd, before: false)) continue;
            if (IsPhone(s[start..end])) return true;
        }
        return false;
    }

    // A number attached to a word ("ORD-1234…", "…-abc") is an identifier, not a phone number; spaces separate.
    private static bool GluedToWord(ReadOnlySpan<char> s, int sepFrom, int sepTo, bool before)
    {
        var separators = s[sepFrom..sepTo];
        var neighbour = before ? sepFrom - 1 : sepTo;
        if (neighbour < 0 || neighbour >= s.Length) return false;
        var c = s[neighbour];
        if (!(char.IsLetterOrDigit(c) || c == '_')) return false;
        return separators.IsEmpty || separators.ContainsAnyExcept(' ');
    }

    private static bool IsPhone(ReadOnlySpan<char> p)
    {
        Span<int> groups = stackalloc int[16];
        int groupCount = 0, digits = 0, dots = 0, otherSeparators = 0, current = 0;
        foreach (var c in p)
        {
            if (IsAsciiDigit(c)) { digits++; current++; continue; }
            if (c == '.') dots++; else if (c != '+') otherSeparators++;
            if (current > 0)
            {
                if (groupCount == groups.Length) return false;
                groups[groupCount++] = current;
                current = 0;
            }
        }
        if (current > 0)
        {
            if (groupCount == groups.Length) return false;
            groups[groupCount++] = current;
        }
        if (digits > 15) return false;
        if (dots == 1 && otherSeparators == 0 && groupCount == 2) return false;                // decimal 1234567.89
        if (otherSeparators == 0 && dots >= 2 && AllAtMost(groups[..groupCount], 3)) return false;   // dotted quad / version
        if (groupCount >= 3 && IsDate(groups[..groupCount])) return false;
        if (p[0] == '+') return digits >= 7 && p.Count('+') == 1;
        if (p.Contains('+')) return false;
        if (digits < 9 || digits > 13) return false;
        var firstDigit = p[p.IndexOfAnyInRange('0', '9')];
        if (firstDigit == '0') return groupCount > 1 || (digits <= 11 && p.Length > 1 && p[1] != '0');
        return groupCount >= 3 && groups[groupCount - 1] >= 3;
    }

    private static bool IsDate(ReadOnlySpan<int> g) =>
        (g[0] == 4 && g[1] <= 2 && g[2] <= 2) || (g[0] <= 2 && g[1] <= 2 && g[2] == 4);

    private static bool AllAtMost(ReadOnlySpan<int> g, int max)
    {
        foreach (var n in g) if (n > max) return false;
        return true;
    }

    private static bool IsPhoneChar(char c) => IsAsciiDigit(c) || c is ' ' or '-' or '.' or '(' or ')' or '+';

    private static bool IsAsciiDigit(char c) => (uint)(c - '0') <= 9;

    private static int CountAsciiDigits(ReadOnlySpan<char> s)
    {
        var n = 0;
        foreach (var c in s) if (IsAsciiDigit(c)) n++;
        return n;
    }

    private static int NextIndexOf(ReadOnlySpan<char> s, char c, int from)
    {
        if (from >= s.Length) return -1;
        var i = s[from..].IndexOf(c);
        return i < 0 ? -1 : from + i;
    }
}
