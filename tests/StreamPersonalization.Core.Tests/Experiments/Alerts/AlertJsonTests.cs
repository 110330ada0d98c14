using System.Text.Json;
using StreamPersonalization.Core.Experiments.Alerts;

namespace StreamPersonalization.Core.Tests.Experiments.Alerts;

public class AlertJsonTests
{
    private static readonly Alert Sample = new("exp-1", AlertDetectors.GuardrailBreach, "treatment:conversion", AlertSeverity.Critical,
        AlertState.Raised, 2, 57, 1_795_341_600_000, "arm treatment: guardrail conversion breached",
        [new("difference", -0.02), new("p_value", 0.003), new("std_error", double.NaN)]);

    [Fact]
    public void ToJson_WritesDocumentedFieldsInOrder()
    {
        using var doc = JsonDocument.Parse(AlertJson.ToUtf8(Sample));
        var root = doc.RootElement;
        string[] expected = ["schema", "id", "key", "scope", "detector", "subject", "severity", "state", "episode", "version", "eventTime", "message", "evidence"];
        Assert.Equal(expected, root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(Alert.CurrentSchema, root.GetProperty("schema").GetInt32());
        Assert.Equal("exp-1/guardrail_breach/treatment:conversion#2/raised/critical", root.GetProperty("id").GetString());
        Assert.Equal("exp-1/guardrail_breach/treatment:conversion", root.GetProperty("key").GetString());
        Assert.Equal("critical", root.GetProperty("severity").GetString());
        Assert.Equal("raised", root.GetProperty("state").GetString());
        Assert.Equal(57, root.GetProperty("version").GetInt64());
        // 1,795,341,600,000 ms after the epoch is 2026-11-22T10:00:00Z (1,795,341,600 s / 86,400 = 20,779 days + 36,000 s).
        Assert.Equal("2026-11-22T10:00:00.000Z", root.GetProperty("eventTime").GetString());
        var evidence = root.GetProperty("evidence");
        Assert.Equal(["difference", "p_value", "std_error"], evidence.EnumerateObject().Select(p => p.Name));
        Assert.Equal(-0.02, evidence.GetProperty("difference").GetDouble());
        Assert.Equal(JsonValueKind.Null, evidence.GetProperty("std_error").ValueKind);
    }

    [Fact]
    public void ToJson_UnknownEventTimeAndNoSubject_WritesNullAndShortKey()
    {
        var a = Sample with { Detector = AlertDetectors.Srm, Subject = "", EventTimeMs = null, State = AlertState.Resolved, Severity = AlertSeverity.Info };
        using var doc = JsonDocument.Parse(AlertJson.ToJson(a));
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("eventTime").ValueKind);
        Assert.Equal("exp-1/srm", doc.RootElement.GetProperty("key").GetString());
        Assert.Equal("exp-1/srm#2/resolved/info", doc.RootElement.GetProperty("id").GetString());
    }

    [Fact]
    public void ToJson_SameAlert_SameBytes() =>
        Assert.Equal(AlertJson.ToUtf8(Sample), AlertJson.ToUtf8(Sample with { Evidence = Sample.Evidence.ToList() }));
}
