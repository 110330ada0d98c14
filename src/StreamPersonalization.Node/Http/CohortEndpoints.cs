using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using StreamPersonalization.Core.Privacy.Cohorts;

namespace StreamPersonalization.Node.Http;

/// <summary>
/// <c>GET /v1/cohorts</c> (public read, no token): the latest stored cohort releases, newest period first, as
/// <c>{"releases": [document, …]}</c> where each document (<see cref="CohortReleaseJson.Document"/>) holds the period, status
/// (released or refused), mechanism, ε/δ charged, budget, noise scales and the released cohorts. <c>?period=2026-11-22/P1D</c>
/// returns that period only (404 when it has no release); <c>?limit=</c> caps the list (default 10, 1..100). Everything served
/// is already public (noisy, suppressed); errors are JSON <c>{"error": "..."}</c> with 400/404/503.
/// </summary>
public static class CohortEndpoints
{
    public const int DefaultLimit = 10, MaxLimit = 100;

    public static void Map(IEndpointRouteBuilder app, ICohortReleaseStore releases)
    {
        app.MapGet("/v1/cohorts", async (string? period, int? limit, CancellationToken ct) =>
        {
            if (limit is { } l && (l < 1 || l > MaxLimit)) return Error(400, $"limit must be 1..{MaxLimit}; got {l}");
            if (period is not null && !CohortPeriod.TryParse(period, out _)) return Error(400, $"period must look like 2026-11-22/P1D; got '{period}'");
            IReadOnlyList<StoredCohortRelease> found;
            try
            {
                found = period is null
                    ? await releases.ListReleasesAsync(limit ?? DefaultLimit, ct)
                    : await releases.GetReleaseAsync(period, ct) is { } one ? [one] : [];
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return Error(503, $"cohort release store unavailable: {e.Message}");
            }
            if (period is not null && found.Count == 0) return Error(404, $"no cohort release for period '{period}'");
            return Results.Bytes(Body(found), "application/json");
        });
    }

    /// <summary><c>{"releases": [...]}</c> with the stored documents as they are.</summary>
    public static byte[] Body(IReadOnlyList<StoredCohortRelease> releases)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteStartArray("releases");
            foreach (var r in releases) w.WriteRawValue(r.Document);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    private static IResult Error(int status, string message) => Results.Json(new { error = message }, statusCode: status);
}
