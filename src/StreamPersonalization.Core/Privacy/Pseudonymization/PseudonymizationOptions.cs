namespace StreamPersonalization.Core.Privacy.Pseudonymization;

/// <summary>Whether the node may fall back to the repository's published development key.</summary>
public enum PrivacyMode
{
    /// <summary>Without a configured key the published <see cref="PseudonymizationOptions.DevelopmentKey"/> is used (key id "dev").</summary>
    Development,

    /// <summary>A secret key (<c>Privacy:Key</c> or <c>Privacy:KeyFile</c>) is required and may not be the development key.</summary>
    Production,
}

/// <summary>Text form of the 32-byte HMAC after the key-id prefix.</summary>
public enum PseudonymFormat
{
    /// <summary>43 characters of unpadded base64url (RFC 4648 §5).</summary>
    Base64Url,

    /// <summary>64 lowercase hexadecimal characters.</summary>
    Hex,
}

/// <summary>
/// How raw user ids are pseudonymised (configuration section <c>Privacy</c>). The key is base64 text of at least
/// 32 random bytes (e.g. <c>openssl rand -base64 32</c>), given inline (<c>Privacy:Key</c>, typically from the
/// environment variable <c>SP__Privacy__Key</c>) or as a secret file holding that text (<c>Privacy:KeyFile</c>).
/// <see cref="Validate"/> checks everything that needs no I/O; <see cref="ResolveKey"/> reads the file through a
/// delegate so this class stays free of I/O.
/// </summary>
public sealed record PseudonymizationOptions
{
    /// <summary>
    /// The repository's published development key (SHA-256 of a fixed sentence). Anyone can recompute pseudonyms
    /// made with it, so it is refused in <see cref="PrivacyMode.Production"/>.
    /// </summary>
    public const string DevelopmentKey = "+62msjAC3vM3/lxDSSj2LwSbI0CqfK6Y+IXCHfa6Wg0=";

    /// <summary>Key id that marks pseudonyms made with <see cref="DevelopmentKey"/>.</summary>
    public const string DevelopmentKeyId = "dev";

    /// <summary>Smallest accepted key: the HMAC-SHA256 block security level (RFC 2104 §3 recommends at least the hash length).</summary>
    public const int MinKeyBytes = 32;

    /// <value>Development (default) or Production. Production refuses to start without a secret key.</value>
    public PrivacyMode Mode { get; init; } = PrivacyMode.Development;

    /// <value>Base64 of at least 32 bytes, or null. Mutually exclusive with <see cref="KeyFile"/>. Default null.</value>
    public string? Key { get; init; }

    /// <value>Path of a file whose content (surrounding whitespace ignored) is the base64 key, or null. Default null.</value>
    public string? KeyFile { get; init; }

    /// <value>
    /// Short id written before every pseudonym ("k1:…") so a key rotation is visible in the data: 1–8 characters
    /// of [a-z0-9], not "dev" (reserved for the development key, which always uses "dev"). Default "k1".
    /// </value>
    public string KeyId { get; init; } = "k1";

    /// <value>Base64Url (default, 43 characters) or Hex (64 characters) after the prefix.</value>
    public PseudonymFormat Format { get; init; } = PseudonymFormat.Base64Url;

    /// <summary>True when no key is configured and development mode falls back to <see cref="DevelopmentKey"/>.</summary>
    public bool UsesDevelopmentKey => Mode == PrivacyMode.Development && Key is null && KeyFile is null;

    /// <summary>The key id pseudonyms will carry: "dev" with the development key, else <see cref="KeyId"/>.</summary>
    public string EffectiveKeyId => UsesDevelopmentKey ? DevelopmentKeyId : KeyId;

    /// <summary>Throws <see cref="ArgumentException"/> naming the configuration key and what is allowed.</summary>
    public PseudonymizationOptions Validate()
    {
        if (!Enum.IsDefined(Mode)) Fail("Privacy:Mode", $"is {Mode}; allowed: Development, Production");
        if (!Enum.IsDefined(Format)) Fail("Privacy:Format", $"is {Format}; allowed: Base64Url, Hex");
        if (Key is not null && KeyFile is not null) Fail("Privacy:Key", "and Privacy:KeyFile are both set; set exactly one");
        if (Mode == PrivacyMode.Production && Key is null && KeyFile is null)
            Fail("Privacy:Key", "is required in Production mode (Privacy:Mode); set Privacy:Key or Privacy:KeyFile to a secret base64 key of at least 32 bytes");
        if (KeyFile is not null && string.IsNullOrWhiteSpace(KeyFile)) Fail("Privacy:KeyFile", "is empty; give the path of the key file");
        if (!IsValidKeyId(KeyId)) Fail("Privacy:KeyId", $"is '{KeyId}'; allowed: 1-8 characters of a-z and 0-9");
        if (KeyId == DevelopmentKeyId) Fail("Privacy:KeyId", "is 'dev', which is reserved for the development key; use e.g. 'k1'");
        if (Key is not null) CheckKey(Key, "Privacy:Key");
        return this;
    }

    /// <summary>
    /// The key bytes to use: the inline key, the key file read through <paramref name="readFile"/> (e.g.
    /// <c>File.ReadAllBytes</c>), or the development key. Validates first; throws <see cref="ArgumentException"/>
    /// naming the configuration key for a bad or development key in production.
    /// </summary>
    public byte[] ResolveKey(Func<string, byte[]> readFile)
    {
        Validate();
        if (Key is not null) return CheckKey(Key, "Privacy:Key");
        if (KeyFile is not null)
        {
            var text = System.Text.Encoding.UTF8.GetString(readFile(KeyFile)).Trim();
            return CheckKey(text, "Privacy:KeyFile");
        }
        return Convert.FromBase64String(DevelopmentKey);
    }

    private byte[] CheckKey(string base64, string configKey)
    {
        var bytes = new byte[base64.Length];
        if (!Convert.TryFromBase64String(base64.Trim(), bytes, out var n))
            Fail(configKey, "is not valid base64; generate one with 'openssl rand -base64 32'");
        if (n < MinKeyBytes) Fail(configKey, $"decodes to {n} bytes; at least {MinKeyBytes} are required");
        var key = bytes[..n];
        if (Mode == PrivacyMode.Production && key.AsSpan().SequenceEqual(Convert.FromBase64String(DevelopmentKey)))
            Fail(configKey, "is the repository's published development key; Production mode (Privacy:Mode) needs a secret key");
        return key;
    }

    private static bool IsValidKeyId(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 8) return false;
        foreach (var c in id) if (c is not (>= 'a' and <= 'z' or >= '0' and <= '9')) return false;
        return true;
    }

    private static void Fail(string key, string message) =>
        throw new ArgumentException($"Configuration key '{key}' {message}.", key);

    // The key itself must never reach a log line.
    public override string ToString() =>
        $"PseudonymizationOptions(Mode={Mode}, KeyId={EffectiveKeyId}, Format={Format}, Key={(Key is null ? "unset" : "set")}, KeyFile={KeyFile ?? "unset"})";
}
