using StreamPersonalization.Core.Engagement;
using StreamPersonalization.Core.Rules;

namespace StreamPersonalization.Core.Tests.Rules;

public class RuleCompilerTests
{
    private static bool Eval(string source, UserFeatures features = default) => RuleCompiler.Compile(source).Evaluate(in features);

    [Theory]
    [InlineData("1 + 2 * 3 == 7")]
    [InlineData("(1 + 2) * 3 == 9")]
    [InlineData("10 - 4 - 3 == 3")]
    [InlineData("100 / 10 / 5 == 2")]
    [InlineData("2 * 3 / 4 == 1.5")]
    [InlineData("12 / 2 * 3 == 18")]
    [InlineData("-2 * 3 == -6")]
    [InlineData("-2 * -3 == 6")]
    [InlineData("- -4 == 4")]
    [InlineData("-(2 + 3) == -5")]
    [InlineData("1 - -1 == 2")]
    [InlineData("true || false && false")]
    [InlineData("!(false && true || true) == false")]
    [InlineData("false && true || true")]
    [InlineData("!false && true")]
    [InlineData("!!true")]
    [InlineData("!1 > 2")]
    [InlineData("!(1 > 2) == true")]
    [InlineData("(1 < 2) == (3 < 4)")]
    [InlineData("(1 < 2) != false")]
    [InlineData("1 + 2 in [3, 4]")]
    [InlineData("!2 in [3]")]
    [InlineData("2 not in [3, -2]")]
    [InlineData("-2 in [3, -2]")]
    [InlineData("1e3 == 1000 && 0.5 == .5 && 2.5E-1 == 0.25")]
    [InlineData("'it\\'s' == \"it's\"")]
    [InlineData("\"a\\\\b\\n\" != 'a\\\\b'")]
    [InlineData("'\\u0041' == 'A'")]
    public void Compile_RespectsPrecedenceAndAssociativity_EvaluatesTrue(string source)
    {
        Assert.True(Eval(source));
    }

    [Theory]
    [InlineData("true && false || false && true")]
    [InlineData("!true || false")]
    [InlineData("!(1 < 2)")]
    [InlineData("2 - 1 - 1 == 2")]
    [InlineData("8 / 4 / 2 == 4")]
    [InlineData("1 in []")]
    public void Compile_RespectsPrecedenceAndAssociativity_EvaluatesFalse(string source)
    {
        Assert.False(Eval(source));
    }

    [Fact]
    public void Evaluate_ReadsFeatureValues()
    {
        var rule = RuleCompiler.Compile("sessions_7d >= 2 && engagement_score >= 5 && country in ['DE', 'FR']");
        Assert.True(rule.Evaluate(new UserFeatures { Sessions7d = 2, EngagementScore = 5, Country = "FR" }));
        Assert.False(rule.Evaluate(new UserFeatures { Sessions7d = 1, EngagementScore = 5, Country = "FR" }));
        Assert.False(rule.Evaluate(new UserFeatures { Sessions7d = 2, EngagementScore = 5, Country = "US" }));
        var features = new UserFeatures { Sessions7d = 2, EngagementScore = 5, Country = "DE" };
        Assert.True(rule.Predicate(in features));
    }

    [Fact]
    public void Features_AreDistinctInOrderOfFirstAppearance()
    {
        var rule = RuleCompiler.Compile("(country == 'DE' || sessions_7d > 1) && sessions_7d < 9 && revenue_30d / sessions_7d > 3 && country != 'x'");
        Assert.Equal(["country", "sessions_7d", "revenue_30d"], rule.Features);
        Assert.Equal("(country == 'DE' || sessions_7d > 1) && sessions_7d < 9 && revenue_30d / sessions_7d > 3 && country != 'x'", rule.Source);
    }

    [Fact]
    public void Evaluate_NullStrings_CompareAsAbsent()
    {
        var features = new UserFeatures { Device = null, Country = null };
        Assert.False(Eval("device == 'mobile'", features));
        Assert.True(Eval("device != 'mobile'", features));
        Assert.False(Eval("device in ['mobile', '']", features));
        Assert.True(Eval("device not in ['mobile']", features));
        Assert.False(Eval("device == ''", features));
        Assert.True(Eval("device == country", features));
        Assert.False(Eval("device == country", new UserFeatures { Country = "DE" }));
    }

    [Fact]
    public void Evaluate_StringEquality_IsOrdinalAndCaseSensitive()
    {
        var features = new UserFeatures { Country = "de" };
        Assert.False(Eval("country == 'DE'", features));
        Assert.True(Eval("country == 'de'", features));
    }

    [Fact]
    public void Evaluate_DivisionByZero_FollowsIeee()
    {
        Assert.True(Eval("1 / 0 > 1e300"));
        Assert.True(Eval("-1 / 0 < -1e300"));
        Assert.True(Eval("revenue_30d / purchases_30d > 1e300", new UserFeatures { Revenue30d = 5 }));
        Assert.False(Eval("0 / 0 == 0 / 0"));
    }

    [Theory]
    [InlineData("engagement_score == 1")]
    [InlineData("engagement_score != 1")]
    [InlineData("engagement_score < 1")]
    [InlineData("engagement_score <= 1")]
    [InlineData("engagement_score > 1")]
    [InlineData("engagement_score >= 1")]
    [InlineData("engagement_score != engagement_score")]
    [InlineData("engagement_score in [1, 2]")]
    public void Evaluate_ComparisonWithNaN_IsFalse(string source)
    {
        Assert.False(Eval(source, new UserFeatures { EngagementScore = double.NaN }));
    }

    [Fact]
    public void Explain_ShowsEachFeatureWithValueAndOutcome()
    {
        var rule = RuleCompiler.Compile("engagement_score >= 20 && sessions_7d >= 3");
        var text = rule.Explain(new UserFeatures { EngagementScore = 23.4, Sessions7d = 3 });
        Assert.Equal("engagement_score=23.4 (>= 20) && sessions_7d=3 (>= 3) => true", text);
    }

    [Fact]
    public void Explain_QuotesStringsAndShowsNull()
    {
        var rule = RuleCompiler.Compile("device == \"mobile\" && country not in ['DE', 'FR'] || revenue_30d / 2 > 1");
        var text = rule.Explain(new UserFeatures { Device = null, Country = "US", Revenue30d = 1 });
        Assert.Equal("device=null (== \"mobile\") && country=\"US\" (not in [\"DE\", \"FR\"]) || revenue_30d=1 / 2 > 1 => false", text);
    }

    [Fact]
    public void CompileMask_SetsBitPerRuleAndRejectsMoreThan64()
    {
        var mask = RuleCompiler.CompileMask([RuleCompiler.Compile("sessions_7d > 1"), RuleCompiler.Compile("true"), RuleCompiler.Compile("country == 'DE'")]);
        Assert.Equal(0b110UL, mask(new UserFeatures { Country = "DE" }));
        Assert.Equal(0b011UL, mask(new UserFeatures { Sessions7d = 2 }));
        Assert.Equal(0UL, RuleCompiler.CompileMask([])(default));
        var always = RuleCompiler.Compile("true");
        Assert.Throws<ArgumentException>(() => RuleCompiler.CompileMask(Enumerable.Repeat(always, 65).ToArray()));
    }

    [Fact]
    public void FeatureTable_ListsEveryAttributedField()
    {
        Assert.Equal(15, FeatureTable.All.Count);
        Assert.Equal("engagement_score", FeatureTable.All[0].Name);
        Assert.True(FeatureTable.TryGet("device", out var device));
        Assert.True(device.IsString);
    }
}
