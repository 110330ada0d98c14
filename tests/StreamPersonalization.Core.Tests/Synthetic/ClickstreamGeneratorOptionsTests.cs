using StreamPersonalization.Core.Synthetic;

namespace StreamPersonalization.Core.Tests.Synthetic;

public class ClickstreamGeneratorOptionsTests
{
    [Fact]
    public void Validate_Defaults_DoesNotThrow()
    {
        var options = new ClickstreamGeneratorOptions();
        options.Validate();
        Assert.Equal(42, options.Seed);
        Assert.Equal(10_000, options.Users);
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), options.StartTime);
        Assert.Equal(60_000, options.MaxOutOfOrderMs);
        Assert.Equal(2_000, options.MaxIngestDelayMs);
    }

    public static TheoryData<string, string, string> InvalidCases() => new()
    {
        { "Users0", "Users", "[1, 5,000,000]" },
        { "UsersHuge", "Users", "[1, 5,000,000]" },
        { "StartTimeEarly", "StartTime", "[1970-01-01T00:00:00Z, 9000-01-01T00:00:00Z)" },
        { "Sessions0", "MeanSessionsPerUserPerDay", "(0, 24]" },
        { "SessionsNaN", "MeanSessionsPerUserPerDay", "(0, 24]" },
        { "Events0", "MeanEventsPerSession", "[1, 200]" },
        { "InterEvent0", "MeanInterEventSeconds", "(0, 300]" },
        { "BadShareNegative", "BadRecordShare", "[0, 1]" },
        { "OutOfOrderShareAbove1", "OutOfOrderShare", "[0, 1]" },
        { "MaxOutOfOrderTooBig", "MaxOutOfOrderMs", "[0, 240,000]" },
        { "IngestDelayNegative", "MaxIngestDelayMs", "[0, 60,000]" },
        { "DeviceSwitch2", "DeviceSwitchShare", "[0, 1]" },
        { "CountriesEmpty", "Countries", "at least one entry" },
        { "CountriesDuplicate", "Countries", "more than once" },
        { "DevicesZeroWeight", "Devices", "(0, +inf)" },
    };

    private static ClickstreamGeneratorOptions Make(string name) => name switch
    {
        "Users0" => new() { Users = 0 },
        "UsersHuge" => new() { Users = 5_000_001 },
        "StartTimeEarly" => new() { StartTime = new DateTimeOffset(1969, 12, 31, 0, 0, 0, TimeSpan.Zero) },
        "Sessions0" => new() { MeanSessionsPerUserPerDay = 0 },
        "SessionsNaN" => new() { MeanSessionsPerUserPerDay = double.NaN },
        "Events0" => new() { MeanEventsPerSession = 0.5 },
        "InterEvent0" => new() { MeanInterEventSeconds = 0 },
        "BadShareNegative" => new() { BadRecordShare = -0.1 },
        "OutOfOrderShareAbove1" => new() { OutOfOrderShare = 1.5 },
        "MaxOutOfOrderTooBig" => new() { MaxOutOfOrderMs = 300_000 },
        "IngestDelayNegative" => new() { MaxIngestDelayMs = -1 },
        "DeviceSwitch2" => new() { DeviceSwitchShare = 2 },
        "CountriesEmpty" => new() { Countries = [] },
        "CountriesDuplicate" => new() { Countries = [new("DE", 1), new("DE", 2)] },
        "DevicesZeroWeight" => new() { Devices = [new("mobile", 0)] },
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void Validate_InvalidValue_ThrowsNamingKeyAndRange(string caseName, string key, string range)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Make(caseName).Validate());
        Assert.Equal(key, ex.ParamName);
        Assert.Contains($"ClickstreamGeneratorOptions.{key}", ex.Message);
        Assert.Contains(range, ex.Message);
    }

    [Fact]
    public void Constructor_InvalidOptions_ThrowsBeforeGenerating()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ClickstreamGenerator(new() { Users = 0 }));
    }

    [Fact]
    public void Generate_NegativeCount_ThrowsEagerly()
    {
        var generator = new ClickstreamGenerator(new());
        Assert.Throws<ArgumentOutOfRangeException>(() => generator.Generate(-1));
    }
}
