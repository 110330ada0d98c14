using StreamPersonalization.Core.Rules;
using StreamPersonalization.Core.Segments;

namespace StreamPersonalization.Core.Tests.Segments;

public class SegmentCatalogLoaderTests
{
    private const string Valid = """
        version: 3            # catalog version
        segments:
          - id: active        # first
            description: Users with recent sessions
            rule: "sessions_7d >= 2 && engagement_score >= 5"
          - id: big_spender
            rule: "revenue_30d >= 200"
          - id: mobile-de
            description: Mobile in Germany
            rule: device == 'mobile' && country == 'DE'
        """;

    private static SegmentCatalogException Invalid(string yaml) =>
        Assert.Throws<SegmentCatalogException>(() => SegmentCatalogLoader.Parse(yaml, "test.yaml"));

    [Fact]
    public void Parse_ValidCatalog_LoadsSegmentsInOrder()
    {
        var catalog = SegmentCatalogLoader.Parse(Valid, "test.yaml");
        Assert.Equal(3, catalog.Version);
        Assert.Equal(["active", "big_spender", "mobile-de"], catalog.Segments.Select(s => s.Id));
        Assert.Equal([0, 1, 2], catalog.Segments.Select(s => s.Index));
        Assert.Equal("Users with recent sessions", catalog.Segments[0].Description);
        Assert.Equal("", catalog.Segments[1].Description);
        Assert.Equal("revenue_30d >= 200", catalog.Segments[1].Rule.Source);
        Assert.Equal(["device", "country"], catalog.Segments[2].Rule.Features);
        Assert.True(catalog.TryGet("big_spender", out var spender));
        Assert.Equal(1, spender.Index);
    }

    [Fact]
    public void Parse_EmptySegmentList_IsAllowed()
    {
        var catalog = SegmentCatalogLoader.Parse("version: 1\nsegments: []\n", "test.yaml");
        Assert.Empty(catalog.Segments);
        Assert.Equal(0UL, catalog.Evaluate(default));
    }

    [Fact]
    public void Parse_BadYaml_NamesFileAndLine()
    {
        var error = Invalid("version: 1\nsegments: [\n  - id: a\n");
        Assert.StartsWith("test.yaml: invalid YAML at line", error.Message);
    }

    [Theory]
    [InlineData("segments: []", "version", "test.yaml: field 'version': missing 'version'")]
    [InlineData("version: 0\nsegments: []", "version", "test.yaml: field 'version': 'version' must be a positive integer but is '0' (line 1)")]
    [InlineData("version: -2\nsegments: []", "version", "'version' must be a positive integer but is '-2'")]
    [InlineData("version: abc\nsegments: []", "version", "'version' must be a positive integer but is 'abc'")]
    [InlineData("version: 1.5\nsegments: []", "version", "'version' must be a positive integer but is '1.5'")]
    [InlineData("version: 1", "segments", "test.yaml: field 'segments': missing 'segments' list")]
    [InlineData("version: 1\nsegments: {a: 1}", "segments", "'segments' must be a list")]
    [InlineData("version: 1\nrules: []\nsegments: []", "rules", "test.yaml: field 'rules': unknown field 'rules' (allowed: version, segments) (line 2)")]
    public void Parse_InvalidTopLevel_ThrowsNamingField(string yaml, string field, string message)
    {
        var error = Invalid(yaml);
        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message);
        Assert.Equal("test.yaml", error.SourceName);
    }

    [Fact]
    public void Parse_NotAMapping_Throws()
    {
        Assert.Contains("catalog must be a mapping", Invalid("- a\n- b").Message);
        Assert.Contains("catalog is empty", Invalid("").Message);
    }

    [Theory]
    [InlineData("  - rule: 'sessions_7d > 1'", 0, null, "id", "test.yaml: segment #0: field 'id': missing 'id' (line 3)")]
    [InlineData("  - id: a\n    description: x", 0, "a", "rule", "test.yaml: segment #0 ('a'): field 'rule': missing 'rule' (line 3)")]
    [InlineData("  - id: a\n    rule: ''", 0, "a", "rule", "segment #0 ('a'): field 'rule': missing 'rule'")]
    [InlineData("  - id: Active\n    rule: 'true'", 0, "Active", "id", "segment #0 ('Active'): field 'id': invalid id 'Active' (allowed: lowercase letters, digits, '_' and '-') (line 3)")]
    [InlineData("  - id: a b\n    rule: 'true'", 0, "a b", "id", "invalid id 'a b'")]
    [InlineData("  - id: a\n    rule: 'true'\n  - id: a\n    rule: 'false'", 1, "a", "id", "test.yaml: segment #1 ('a'): field 'id': duplicate id (already used by segment #0) (line 5)")]
    [InlineData("  - id: a\n    rule: 'true'\n    rulez: 'x'", 0, "a", "rulez", "segment #0 ('a'): field 'rulez': unknown field 'rulez'")]
    [InlineData("  - id: a\n    rule: [1, 2]", 0, "a", "rule", "segment #0 ('a'): field 'rule': 'rule' must be a string")]
    [InlineData("  - just-a-string", 0, null, null, "test.yaml: segment #0: must be a mapping with 'id' and 'rule'")]
    public void Parse_InvalidSegment_ThrowsNamingSegmentAndField(string segmentsYaml, int index, string? id, string? field, string message)
    {
        var error = Invalid("version: 1\nsegments:\n" + segmentsYaml + "\n");
        Assert.Equal(index, error.SegmentIndex);
        Assert.Equal(id, error.SegmentId);
        Assert.Equal(field, error.Field);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Parse_RuleSyntaxError_IncludesRulePosition()
    {
        var error = Invalid("version: 1\nsegments:\n  - id: ok\n    rule: 'true'\n  - id: typo\n    rule: 'sesions_7d >= 2'\n");
        Assert.Equal(
            "test.yaml: segment #1 ('typo'): field 'rule': invalid rule: Unknown feature 'sesions_7d' at position 0; did you mean 'sessions_7d'? (line 6)",
            error.Message);
        var inner = Assert.IsType<RuleSyntaxException>(error.InnerException);
        Assert.Equal(0, inner.Position);
    }

    [Fact]
    public void Parse_MoreThan64Segments_Throws()
    {
        var yaml = "version: 1\nsegments:\n" + string.Concat(Enumerable.Range(0, 65).Select(i => $"  - id: s{i}\n    rule: 'true'\n"));
        var error = Invalid(yaml);
        Assert.Equal("segments", error.Field);
        Assert.Contains("65 segments exceed the limit of 64", error.Message);
    }

    [Fact]
    public void LoadFile_MissingFile_ThrowsNamingPath()
    {
        var path = Path.Combine(Path.GetTempPath(), Guid.NewGuid() + ".yaml");
        var error = Assert.Throws<SegmentCatalogException>(() => SegmentCatalogLoader.LoadFile(path));
        Assert.StartsWith(path + ": cannot read segment catalog", error.Message);
    }

    [Fact]
    public void LoadFile_ValidFile_UsesPathAsSourceName()
    {
        var path = Path.Combine(Path.GetTempPath(), Guid.NewGuid() + ".yaml");
        File.WriteAllText(path, "version: 2\nsegments:\n  - id: x\n    rule: 'bogus > 1'\n");
        try
        {
            var error = Assert.Throws<SegmentCatalogException>(() => SegmentCatalogLoader.LoadFile(path));
            Assert.Equal(path, error.SourceName);
            Assert.StartsWith(path + ": segment #0 ('x')", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
