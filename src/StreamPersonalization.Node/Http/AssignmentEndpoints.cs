using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Node.Experiments;
using StreamPersonalization.Node.Hosting;

namespace StreamPersonalization.Node.Http;

/// <summary>
/// Public read routes (no token, per DESIGN): <c>GET /v1/assignments/{experiment}?user=</c>,
/// <c>POST /v1/assignments/{experiment}</c> with <c>{"users": [...]}</c>, <c>GET /v1/experiments</c> and
/// <c>GET /v1/experiments/{id}</c> (definition plus the latest snapshot: counts, posteriors, intervals, p-values,
/// allocation, alerts). Errors are JSON <c>{"error": "..."}</c> with 400/404/503.
/// </summary>
public static class AssignmentEndpoints
{
    /// <summary>Longest accepted user key (matches the ingest limit's default).</summary>
    public const int MaxUserKeyLength = 256;

    public static void Map(WebApplication app, ExperimentServices s, HttpOptions options)
    {
        app.MapGet("/v1/assignments/{experiment}", async (string experiment, string? user, CancellationToken ct) =>
        {
            if (Invalid(user) is { } bad) return bad;
            return await Assign(s, experiment, [user!], ct, single: true);
        });
        app.MapPost("/v1/assignments/{experiment}", async (string experiment, HttpRequest request, CancellationToken ct) =>
        {
            string[]? users;
            try { users = (await JsonSerializer.DeserializeAsync<BatchRequest>(request.Body, cancellationToken: ct))?.Users; }
            catch (JsonException e) { return Error(400, $"body must be {{\"users\": [\"…\"]}}: {e.Message}"); }
            if (users is null || users.Length == 0) return Error(400, "body must be {\"users\": [\"…\"]} with at least one user");
            if (users.Length > options.MaxBatchUsers) return Error(400, $"at most {options.MaxBatchUsers} users per request (Http:MaxBatchUsers); got {users.Length}");
            foreach (var u in users) if (Invalid(u) is { } bad) return bad;
            return await Assign(s, experiment, users, ct, single: false);
        });
        app.MapGet("/v1/experiments", () => Results.Json(new
        {
            catalog_version = s.Catalog.Current.Version,
            experiments = s.Catalog.Current.Experiments.Select(e => new
            {
                id = e.Id,
                kind = ExperimentNames.Of(ExperimentNames.Kinds, e.Kind),
                status = ExperimentNames.Of(ExperimentNames.Statuses, e.Status),
                version = e.Version,
                snapshot_version = s.Snapshots.Latest(e.Id)?.Version,
            }),
        }));
        app.MapGet("/v1/experiments/{id}", (string id) =>
            s.Catalog.Current.TryGet(id, out var e)
                ? Results.Bytes(ExperimentDocument(e, s.Snapshots.Latest(id)), "application/json")
                : Error(404, $"unknown experiment '{id}'"));
    }

    private static async Task<IResult> Assign(ExperimentServices s, string experiment, IReadOnlyList<string> users, CancellationToken ct, bool single)
    {
        IReadOnlyList<AssignmentAnswer>? answers;
        try { answers = await s.Assignments.AssignAsync(experiment, users, ct); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The detail may name a store key (a pseudonym): it is not for callers.
            return Error(503, "assignment store unavailable; retry later");
        }
        if (answers is null) return Error(404, $"unknown experiment '{experiment}'");
        return single ? Results.Json(Wire(answers[0])) : Results.Json(new { experiment, assignments = answers.Select(Wire) });
    }

    private static object Wire(AssignmentAnswer a) => new
    {
        experiment = a.ExperimentId,
        user = a.UserKey,
        variant = a.Variant,
        reason = a.Reason,
        sticky = a.Sticky,
        definition_version = a.DefinitionVersion,
    };

    /// <summary><c>{"experiment": definition, "snapshot": latest snapshot or null}</c>.</summary>
    public static byte[] ExperimentDocument(ExperimentDefinition e, PublishedSnapshot? snapshot)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WritePropertyName("experiment");
            ExperimentDefinitionJson.Write(w, e);
            w.WritePropertyName("snapshot");
            if (snapshot is null) w.WriteNullValue(); else w.WriteRawValue(snapshot.Json, skipInputValidation: true);
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    private static IResult? Invalid(string? user) =>
        string.IsNullOrEmpty(user) ? Error(400, "query parameter 'user' is required")
        : user.Length > MaxUserKeyLength ? Error(400, $"user key longer than {MaxUserKeyLength} characters")
        : null;

    internal static IResult Error(int status, string message) => Results.Json(new { error = message }, statusCode: status);

    private sealed class BatchRequest
    {
        [System.Text.Json.Serialization.JsonPropertyName("users")]
        public string[]? Users { get; init; }
    }
}
