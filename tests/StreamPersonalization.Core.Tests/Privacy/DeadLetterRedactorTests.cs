using System.Text;
using StreamPersonalization.Core.Privacy;
using StreamPersonalization.Core.Shards;

namespace StreamPersonalization.Core.Tests.Privacy;

public sealed class DeadLetterRedactorTests
{
    /// <summary>A recognisable stand-in for the HMAC: the redactor must call it with the unescaped id.</summary>
    private static string P(string id) => "k1:" + Convert.ToHexString(Encoding.UTF8.GetBytes(id));

    private static string Redacted(string? key, string value, out InputRecord record)
    {
        record = DeadLetterRedactor.Redact(new InputRecord("clicks", 0, 7, key is null ? null : Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(value), 0), P);
        return Encoding.UTF8.GetString(record.Value);
    }

    [Fact]
    public void Redact_PlainMembersAndTheKey_BecomePseudonymsEverywhere()
    {
        var text = Redacted("alice", """{"user_id":"carol","type":"click","note":"sent by alice"}""", out var r);
        Assert.Equal($$"""{"user_id":"{{P("carol")}}","type":"click","note":"sent by {{P("alice")}}"}""", text);
        Assert.Equal(P("alice"), Encoding.UTF8.GetString(r.Key!));
        Assert.Contains(r.Headers!, h => h.Key == DeadLetterRedactor.Header);
    }

    [Fact]
    public void Redact_EscapedNameOrValue_UsesTheUnescapedIdAndLeavesNoTrace()
    {
        var text = Redacted(null, """{"user\u005fid":"u\u0030042","type":"click"}""", out _);
        Assert.Equal($$"""{"user\u005fid":"{{P("u0042")}}","type":"click"}""", text);
        Assert.DoesNotContain("0042", text.Replace(P("u0042"), ""));
    }

    [Theory]
    [InlineData("""{"user_id":123456,"type":"click"}""")]              // wrong type: a number
    [InlineData("""{"type":"click","user_id": 123456 ,"ts":""")]      // truncated after the member
    [InlineData("""{"type":"click","ts":1} {"user_id":123456}""")]    // a second document after the first
    public void Redact_NumericIds_AreReplacedByTheirTextsPseudonym(string value)
    {
        var text = Redacted(null, value, out _);
        Assert.DoesNotContain("123456", text.Replace(P("123456"), ""));
        Assert.Contains($"\"{P("123456")}\"", text);
    }

    [Fact]
    public void Redact_MalformedJsonBeforeTheMember_FallsBackToThePattern()
    {
        var text = Redacted(null, """{"type":"click",,, "user_id" : "dave", "ts":""", out _);
        Assert.Contains($"\"user_id\" : \"{P("dave")}\"", text);
        Assert.DoesNotContain("dave", text.Replace(P("dave"), ""));
    }

    [Fact]
    public void Redact_Garbage_KeepsItsBytes()
    {
        byte[] garbage = [0xff, 0xfe, 0x00, 0x7b, 0x22, 0xc3];
        var record = DeadLetterRedactor.Redact(new InputRecord("clicks", 0, 1, null, garbage, 0), P);
        Assert.Equal(garbage, record.Value);
    }

    [Fact]
    public void Redact_IdEqualToTheKey_IsPseudonymisedOnceNotTwice()
    {
        var text = Redacted("erin", """{"user_id":"erin","type":"click","ts":"x"}""", out _);
        Assert.Equal($$"""{"user_id":"{{P("erin")}}","type":"click","ts":"x"}""", text);
    }

    [Theory]
    [InlineData("""{"type":"click","user_id":"alice""")]          // cut off inside the value
    [InlineData("""{"type":"click","user_id": "alice\""")]       // cut off inside an escape
    [InlineData("""{"type":"click",,"user_id":"alice""")]         // malformed earlier, then cut off
    public void Redact_ValueCutOff_IsRedactedToTheEnd(string value)
    {
        var text = Redacted(null, value, out _);
        Assert.DoesNotContain("alice", text);
        Assert.StartsWith("""{"type":"click",""", text);
    }

    [Theory]
    [InlineData("""{"user_id":["alice"],"type":"click"}""", """["alice"]""")]
    [InlineData("""{"user_id":{"id":"alice"},"type":"click"}""", """{"id":"alice"}""")]
    public void Redact_ObjectOrArrayValue_IsReplacedByThePseudonymOfItsText(string value, string raw)
    {
        var text = Redacted(null, value, out _);
        Assert.Equal($$"""{"user_id":"{{P(raw)}}","type":"click"}""", text);
    }

    [Fact]
    public void Redact_KeyInsideOtherText_DoesNotHideTheMember()
    {
        // The key "user" also occurs in the member's name, and the numeric key "123456" inside a timestamp: the
        // members are found before the key is replaced, so the different id in user_id is still redacted.
        var text = Redacted("user", """{"user_id":"mallory","type":"click"}""", out _);
        Assert.DoesNotContain("mallory", text);
        Assert.Contains(P("mallory"), text);
        var numeric = Redacted("123456", """{"ts":1700000123456,"user\u005fid":"oscar"}""", out _);
        Assert.DoesNotContain("oscar", numeric);
        Assert.DoesNotContain("123456", numeric.Replace(P("123456"), ""));
    }
}
