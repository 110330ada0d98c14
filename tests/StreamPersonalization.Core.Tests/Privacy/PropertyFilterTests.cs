using System.Text;
using StreamPersonalization.Core.Privacy.Minimisation;

namespace StreamPersonalization.Core.Tests.Privacy;

public sealed class PropertyFilterTests
{
    internal static PropertyAllowlistOptions Options(bool detectPii = true) => new()
    {
        Enabled = true,
        DetectPii = detectPii,
        Allowlist = new()
        {
            ["*"] = ["campaign"],
            ["page_view"] = ["section", "referrer_domain", "contact", "load_ms", "logged_in", "extra", "note"],
            ["purchase"] = ["currency", "items"],
        },
    };

    private static PropertyFilterResult Json(string type, string json, bool detectPii = true) =>
        new PropertyFilter(Options(detectPii)).FilterJson(type, Encoding.UTF8.GetBytes(json));

    [Fact]
    public void FilterJson_KeepsAllowlistedScalars_DropsEverythingElseByReason()
    {
        var r = Json("page_view", """
            {"section":"shoes","campaign":"spring","load_ms":123.5,"logged_in":true,"note":null,
             "email":"a@b.de","ssn":"123","contact":"jane@example.com","referrer_domain":"10.1.2.3",
             "extra":{"nested":"x@y.com"},"items":[1,2]}
            """);
        Assert.Equal(["section=\"shoes\"", "campaign=\"spring\"", "load_ms=123.5", "logged_in=true", "note=null"],
            r.Kept.Select(p => p.ToString()));
        Assert.Equal(new PropertyDropCounts(NotAllowlisted: 3, PiiEmail: 1, PiiPhone: 0, PiiIp: 1, NotScalar: 1), r.Dropped);
        Assert.Equal(6, r.Dropped.Total);
    }

    [Fact]
    public void FilterJson_TypeSpecificNames_DoNotLeakToOtherTypes()
    {
        var r = Json("purchase", """{"section":"shoes","currency":"EUR","campaign":"c1"}""");
        Assert.Equal(["currency", "campaign"], r.Kept.Select(p => p.Name));
        Assert.Equal(1, r.Dropped.NotAllowlisted);
        var custom = Json("my_custom_event", """{"currency":"EUR","campaign":"c1"}""");
        Assert.Equal(["campaign"], custom.Kept.Select(p => p.Name));   // unknown types get only the "*" names
    }

    [Fact]
    public void FilterJson_EscapedNamesAndValues_AreUnescapedBeforeTheChecks()
    {
        // "se\u0063tion" is "section"; "\u0040" is '@', so the value is an e-mail address once unescaped.
        var r = Json("page_view", """{"se\u0063tion":"a","contact":"jane\u0040example.com"}""");
        Assert.Equal("section", Assert.Single(r.Kept).Name);
        Assert.Equal(1, r.Dropped.PiiEmail);
    }

    [Fact]
    public void FilterJson_PhoneInAllowlistedValue_IsDroppedAsPhone()
    {
        var r = Json("page_view", """{"contact":"+49 30 1234567","section":"call 555-123-4567"}""");
        Assert.Empty(r.Kept);
        Assert.Equal(2, r.Dropped.PiiPhone);
    }

    [Fact]
    public void FilterJson_PiiDetectionOff_KeepsAllowlistedStrings()
    {
        var r = Json("page_view", """{"contact":"jane@example.com"}""", detectPii: false);
        Assert.Equal("\"jane@example.com\"", Assert.Single(r.Kept).Value.ToString());
    }

    [Fact]
    public void FilterJson_PiiOnlyInNames_IsNotAValueAndIsJustNotAllowlisted()
    {
        var r = Json("page_view", """{"jane@example.com":"x"}""");
        Assert.Empty(r.Kept);
        Assert.Equal(1, r.Dropped.NotAllowlisted);
        Assert.Equal(0, r.Dropped.PiiEmail);
    }

    [Fact]
    public void FilterJson_EmptyObject_IsEmpty() => Assert.Same(PropertyFilterResult.Empty, Json("page_view", "{}"));

    [Fact]
    public void Filter_DecodedProperties_FollowTheSameRulesAsJson()
    {
        var filter = new PropertyFilter(Options());
        var decoded = new[]
        {
            new EventProperty("section", PropertyValue.String("shoes")),
            new EventProperty("contact", PropertyValue.String("10.0.0.1")),
            new EventProperty("extra", PropertyValue.Structured),
            new EventProperty("user_email", PropertyValue.String("x")),
            new EventProperty("load_ms", PropertyValue.Of(12)),
        };
        var r = filter.Filter("page_view", decoded);
        var json = Json("page_view", """{"section":"shoes","contact":"10.0.0.1","extra":[],"user_email":"x","load_ms":12}""");
        Assert.Equal(json.Kept, r.Kept);
        Assert.Equal(json.Dropped, r.Dropped);
    }

    [Fact]
    public void Create_Disabled_ReturnsNull() =>
        Assert.Null(PropertyFilter.Create(new PropertyAllowlistOptions { Allowlist = Options().Allowlist }));

    [Fact]
    public void Validate_BadNames_NameTheKey()
    {
        var o = new PropertyAllowlistOptions { Enabled = true, Allowlist = new() { ["page_view"] = [""] } };
        Assert.Contains("'Privacy:Properties:Allowlist:page_view'", Assert.Throws<ArgumentException>(() => o.Validate()).Message);
        var t = new PropertyAllowlistOptions { Enabled = true, Allowlist = new() { [" "] = ["a"] } };
        Assert.Contains("'Privacy:Properties:Allowlist'", Assert.Throws<ArgumentException>(() => t.Validate()).Message);
    }
}
