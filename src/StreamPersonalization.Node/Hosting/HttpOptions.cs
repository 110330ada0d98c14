namespace StreamPersonalization.Node.Hosting;

/// <summary>The node's HTTP listener and API (configuration section <c>Http</c>).</summary>
public sealed record HttpOptions
{
    /// <value>Listener URLs, e.g. http://127.0.0.1:8080 (default); "none" disables HTTP.</value>
    public string Urls { get; init; } = "http://127.0.0.1:8080";

    /// <value>Bearer token for <c>/v1/admin/*</c>. Default empty: use <see cref="AdminTokenFile"/>, or the admin API is disabled. At least 16 characters.</value>
    public string AdminToken { get; init; } = "";

    /// <value>File whose first line is the admin bearer token (a mounted secret); used when <see cref="AdminToken"/> is empty.</value>
    public string AdminTokenFile { get; init; } = "";

    /// <value>Most users in one batch assignment request. Default 1,000. Allowed 1..10,000.</value>
    public int MaxBatchUsers { get; init; } = 1_000;

    /// <value>Serve <c>GET /metrics</c> (Prometheus text format) on the listener. Default true; false removes the route.</value>
    public bool Metrics { get; init; } = true;

    /// <summary>True when <see cref="Urls"/> is "none".</summary>
    public bool Disabled => Urls.Equals("none", StringComparison.OrdinalIgnoreCase);

    public HttpOptions Validate()
    {
        NodeOptions.Require(!string.IsNullOrWhiteSpace(Urls), "Http:Urls", Urls, "one or more URLs separated by ';', or none");
        NodeOptions.Require(AdminToken.Length == 0 || AdminToken.Length >= 16, "Http:AdminToken", "(hidden)", "empty or at least 16 characters");
        NodeOptions.Require(AdminTokenFile.Length == 0 || File.Exists(AdminTokenFile), "Http:AdminTokenFile", AdminTokenFile, "empty or an existing file");
        NodeOptions.Require(MaxBatchUsers is >= 1 and <= 10_000, "Http:MaxBatchUsers", MaxBatchUsers, "1..10000");
        if (AdminToken.Length == 0 && AdminTokenFile.Length > 0)
            NodeOptions.Require(ResolveAdminToken() is { Length: >= 16 }, "Http:AdminTokenFile", AdminTokenFile, "a file whose first line has at least 16 characters");
        return this;
    }

    /// <summary>The admin token, or null when the admin API is disabled.</summary>
    public string? ResolveAdminToken()
    {
        if (AdminToken.Length > 0) return AdminToken;
        if (AdminTokenFile.Length == 0) return null;
        var line = File.ReadLines(AdminTokenFile).FirstOrDefault()?.Trim();
        return string.IsNullOrEmpty(line) ? null : line;
    }
}
