using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using StreamPersonalization.Core.Ingest;

namespace StreamPersonalization.Core.Tests.Ingest;

public sealed class TimestampParserTests
{
    private static long? Parse(string s) => TimestampParser.TryParseIso(Encoding.UTF8.GetBytes(s), out var ms) ? ms : null;

    private static long Ms(int y, int mo, int d, int h, int mi, int s, int ms = 0, int offsetMinutes = 0) =>
        new DateTimeOffset(y, mo, d, h, mi, s, ms, TimeSpan.FromMinutes(offsetMinutes)).ToUnixTimeMilliseconds();

    [Theory]
    [InlineData("", 0)]
    [InlineData(".1", 100)]
    [InlineData(".12", 120)]
    [InlineData(".123", 123)]
    [InlineData(".1234", 123)]
    [InlineData(".12345", 123)]
    [InlineData(".123456", 123)]
    [InlineData(".1234567", 123)]
    [InlineData(".12345678", 123)]
    [InlineData(".123456789", 123)]
    [InlineData(".999999999", 999)]
    [InlineData(".000000001", 0)]
    [InlineData(".05", 50)]
    public void TryParseIso_CanonicalWithFraction_TruncatesToMilliseconds(string fraction, int expectedMs)
    {
        Assert.Equal(Ms(2026, 3, 1, 12, 34, 56, expectedMs), Parse($"2026-03-01T12:34:56{fraction}Z"));
    }

    [Theory]
    [InlineData("2026-03-01T12:00:00+02:00", 2026, 3, 1, 10, 0, 0, 0)]
    [InlineData("2026-03-01T12:00:00.5-05:30", 2026, 3, 1, 17, 30, 0, 500)]
    [InlineData("2026-03-01T00:30:00+01:00", 2026, 2, 28, 23, 30, 0, 0)]       // crosses the day back
    [InlineData("2028-02-29T23:00:00-02:00", 2028, 3, 1, 1, 0, 0, 0)]          // leap day crosses into March
    [InlineData("2026-03-01T12:00:00+00:00", 2026, 3, 1, 12, 0, 0, 0)]
    [InlineData("2026-03-01T12:00:00.123+00:00", 2026, 3, 1, 12, 0, 0, 123)]
    public void TryParseIso_WithOffset_ConvertsToUtc(string text, int y, int mo, int d, int h, int mi, int s, int ms)
    {
        Assert.Equal(Ms(y, mo, d, h, mi, s, ms), Parse(text));
    }

    [Fact]
    public void TryParseIso_LeapDays_FollowTheCalendar()
    {
        Assert.Equal(Ms(2028, 2, 29, 0, 0, 0), Parse("2028-02-29T00:00:00Z"));
        Assert.Equal(Ms(2000, 2, 29, 23, 59, 59, 999), Parse("2000-02-29T23:59:59.999Z"));
        Assert.Null(Parse("2027-02-29T00:00:00Z"));
        Assert.Null(Parse("2100-02-29T00:00:00Z"));       // century, not a leap year
        Assert.Null(Parse("2027-02-29T00:00:00+01:00"));
    }

    [Fact]
    public void TryParseIso_Range_Is1970To9999()
    {
        Assert.Equal(0L, Parse("1970-01-01T00:00:00Z"));
        Assert.Equal(0L, Parse("1970-01-01T00:00:00.000Z"));
        Assert.Equal(253_402_300_799_999L, Parse("9999-12-31T23:59:59.999Z"));
        Assert.Null(Parse("1969-12-31T23:59:59.999Z"));
        Assert.Null(Parse("1900-06-01T00:00:00Z"));
        Assert.Null(Parse("1970-01-01T00:30:00+01:00"));   // 1969-12-31T23:30Z
        Assert.Null(Parse("0001-01-01T00:00:00Z"));
    }

    [Theory]
    [InlineData("not-a-date")]
    [InlineData("2026-03-01T12:00:00")]          // no zone
    [InlineData("2026-03-01T12:00:00.123")]      // no zone
    [InlineData("2026-03-01T12:00:00.123456")]   // no zone
    [InlineData("2026-03-01 12:00:00")]          // no zone
    [InlineData("12:00:00.000 2026-03-01")]      // no zone, though it ends like "-hh-mm" (was read in the host's local zone)
    [InlineData("Sun, 01 Mar 2026 12:00:00.000 2026-03-01")]   // no zone
    [InlineData("2026-13-01T00:00:00Z")]
    [InlineData("2026-00-01T00:00:00Z")]
    [InlineData("2026-02-30T00:00:00Z")]
    [InlineData("2026-04-31T00:00:00Z")]
    [InlineData("2026-03-00T00:00:00Z")]
    [InlineData("2026-03-01T24:00:00Z")]
    [InlineData("2026-03-01T12:60:00Z")]
    [InlineData("2026-03-01T12:00:61Z")]
    [InlineData("2026-03-01T12:00:00.Z")]
    [InlineData("2026-03-01T12:00:00.1a3Z")]
    [InlineData("2026-03-01T12:00:00+25:00")]
    [InlineData("2026-3-1T12:00:00Z")]
    [InlineData("")]
    public void TryParseIso_Invalid_IsRejected(string text) => Assert.Null(Parse(text));

    [Fact]
    public void TryParseIso_OtherFormsWithZone_AreAccepted()
    {
        Assert.Equal(Ms(2026, 3, 1, 17, 0, 0), Parse("Sun, 01 Mar 2026 12:00:00-05:00"));
        Assert.Equal(Ms(2026, 3, 1, 12, 0, 0), Parse("2026-03-01 12:00:00.000Z"));
    }

    [Fact]
    public void TryParseIso_NonAscii_IsRejected()
    {
        Assert.False(TimestampParser.TryParseIso([.. "2026-03-01T12:00:00"u8, 0xC3, 0xA9, .. "+00:00"u8], out _));
    }

    [Fact]
    public void TryParseIso_RandomInstants_RoundTripThroughIsoForms()
    {
        // Any instant in 1970..9999 written canonically (Z, ms) or with an offset parses back to the same Unix ms.
        var cases = from msSinceEpoch in Gen.Choose(0, int.MaxValue).Select(x => (long)x * 117_000 + x % 1000)   // spread over ~7,900 years
                    from offsetQuarterHours in Gen.Choose(-14 * 4, 14 * 4)
                    select (msSinceEpoch, offsetQuarterHours);
        Check.QuickThrowOnFailure(Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var ms = Math.Min(c.msSinceEpoch, 253_402_300_799_999L - 86_400_000);
            var utc = DateTimeOffset.FromUnixTimeMilliseconds(ms);
            var canonical = utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            if (Parse(canonical) != ms) throw new Exception($"{canonical} parsed to {Parse(canonical)}, expected {ms}");
            var offset = TimeSpan.FromMinutes(c.offsetQuarterHours * 15);
            var local = utc.ToOffset(offset);
            if (local.Year < 1) return;
            var withOffset = local.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);
            if (Parse(withOffset) != ms) throw new Exception($"{withOffset} parsed to {Parse(withOffset)}, expected {ms}");
            Assert.Equal(canonical, TimestampParser.Format(ms));
        }));
    }
}
