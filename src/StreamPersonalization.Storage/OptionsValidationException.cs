namespace StreamPersonalization.Storage;

/// <summary>A storage option has a value outside its allowed range. The message names the key and the allowed values.</summary>
public sealed class OptionsValidationException(string key, string allowed, object? actual)
    : Exception($"Invalid configuration value for '{key}': got '{actual ?? "(null)"}', allowed: {allowed}.")
{
    /// <summary>The configuration key, e.g. <c>Storage:Sqlite:Path</c>.</summary>
    public string Key { get; } = key;
}
