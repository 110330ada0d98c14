using StreamPersonalization.Core.Privacy.Pseudonymization;

namespace StreamPersonalization.Core.Tests.Privacy;

public sealed class PseudonymizationOptionsTests
{
    private static readonly string SecretKey = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)(255 - i)).ToArray());

    private static byte[] NoFile(string path) => throw new FileNotFoundException(path);

    [Fact]
    public void DevelopmentKey_Is32BytesAndUsedWithDevPrefixWhenNothingConfigured()
    {
        Assert.Equal(32, Convert.FromBase64String(PseudonymizationOptions.DevelopmentKey).Length);
        var o = new PseudonymizationOptions();
        Assert.True(o.UsesDevelopmentKey);
        using var p = UserIdPseudonymizer.FromOptions(o, NoFile);
        Assert.StartsWith("dev:", p.Pseudonymize("u1"));
    }

    [Fact]
    public void Validate_ProductionWithoutKey_NamesPrivacyKey()
    {
        var e = Assert.Throws<ArgumentException>(() => new PseudonymizationOptions { Mode = PrivacyMode.Production }.Validate());
        Assert.Contains("'Privacy:Key'", e.Message);
        Assert.Contains("Production", e.Message);
    }

    [Fact]
    public void Validate_ProductionWithTheDevelopmentKey_IsRefused()
    {
        var inline = new PseudonymizationOptions { Mode = PrivacyMode.Production, Key = PseudonymizationOptions.DevelopmentKey };
        Assert.Contains("development key", Assert.Throws<ArgumentException>(() => inline.Validate()).Message);
        var file = new PseudonymizationOptions { Mode = PrivacyMode.Production, KeyFile = "/run/secrets/sp-key" };
        var e = Assert.Throws<ArgumentException>(() => file.ResolveKey(_ => System.Text.Encoding.UTF8.GetBytes(PseudonymizationOptions.DevelopmentKey + "\n")));
        Assert.Contains("'Privacy:KeyFile'", e.Message);
    }

    [Fact]
    public void Validate_BadValues_NameTheirKeys()
    {
        Assert.Contains("'Privacy:Key'", Assert.Throws<ArgumentException>(() => new PseudonymizationOptions { Key = "not base64!" }.Validate()).Message);
        Assert.Contains("16 bytes", Assert.Throws<ArgumentException>(() => new PseudonymizationOptions { Key = Convert.ToBase64String(new byte[16]) }.Validate()).Message);
        Assert.Contains("'Privacy:Key'", Assert.Throws<ArgumentException>(() => new PseudonymizationOptions { Key = SecretKey, KeyFile = "k" }.Validate()).Message);
        Assert.Contains("'Privacy:KeyId'", Assert.Throws<ArgumentException>(() => new PseudonymizationOptions { KeyId = "K-1" }.Validate()).Message);
        Assert.Contains("'Privacy:KeyId'", Assert.Throws<ArgumentException>(() => new PseudonymizationOptions { KeyId = "dev" }.Validate()).Message);
    }

    [Fact]
    public void ResolveKey_ProductionKeyFile_ReadsTrimmedBase64ThroughTheDelegate()
    {
        string? asked = null;
        var o = new PseudonymizationOptions { Mode = PrivacyMode.Production, KeyFile = "/run/secrets/sp-key", KeyId = "k2" };
        var key = o.ResolveKey(path => { asked = path; return System.Text.Encoding.UTF8.GetBytes($"  {SecretKey}\n"); });
        Assert.Equal("/run/secrets/sp-key", asked);
        Assert.Equal(Convert.FromBase64String(SecretKey), key);
        using var p = UserIdPseudonymizer.FromOptions(o, _ => System.Text.Encoding.UTF8.GetBytes(SecretKey));
        Assert.StartsWith("k2:", p.Pseudonymize("u1"));
    }

    [Fact]
    public void ToString_NeverContainsTheKey()
    {
        var o = new PseudonymizationOptions { Mode = PrivacyMode.Production, Key = SecretKey };
        Assert.DoesNotContain(SecretKey, o.ToString());
        Assert.Contains("Key=set", o.ToString());
    }
}
