using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using StreamPersonalization.Core.Experiments.Definitions;

namespace StreamPersonalization.Node.Http;

/// <summary>
/// Authenticated definition management (bearer token from <c>Http:AdminToken</c> or <c>Http:AdminTokenFile</c>):
/// <list type="bullet">
/// <item><c>GET /v1/admin/experiments</c>: the definitions in force (file overlaid with admin definitions).</item>
/// <item><c>PUT /v1/admin/experiments/{id}</c>: a definition as JSON (or YAML), same fields as experiments.yaml;
/// 400 names the invalid field; 409 unless its version is greater than the one in force.</item>
/// <item><c>POST /v1/admin/experiments/{id}/status?to=running|paused|stopped|draft</c>: the same definition with a
/// new status as the next version.</item>
/// </list>
/// Without a configured token every admin route answers 403 (the API is off, not open).
/// </summary>
public static class AdminEndpoints
{
    public static void Map(WebApplication app, ExperimentServices s)
    {
        var admin = app.MapGroup("/v1/admin").AddEndpointFilter(async (context, next) =>
            Authorized(context.HttpContext.Request, s.AdminToken) is { } denied ? denied : await next(context));
        admin.MapGet("/experiments", () =>
        {
            using var ms = new MemoryStream();
            using (var w = new System.Text.Json.Utf8JsonWriter(ms))
            {
                w.WriteStartObject();
                w.WriteNumber("catalog_version", s.Catalog.Current.Version);
                w.WriteStartArray("experiments");
                foreach (var e in s.Catalog.Current.Experiments) ExperimentDefinitionJson.Write(w, e);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            return Results.Bytes(ms.ToArray(), "application/json");
        });
        admin.MapPut("/experiments/{id}", async (string id, HttpRequest request, CancellationToken ct) =>
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            return await PutAsync(s, id, await reader.ReadToEndAsync(ct), ct);
        });
        admin.MapPost("/users/{id}/forget", async (string id, CancellationToken ct) =>
        {
            if (s.Users is not { } users) return AssignmentEndpoints.Error(503, "erasure needs the user stage on this node");
            if (id.Length is 0 or > AssignmentEndpoints.MaxUserKeyLength) return AssignmentEndpoints.Error(400, $"user id must have 1..{AssignmentEndpoints.MaxUserKeyLength} characters");
            // Assignments stop at once on this node; the shard that owns the user erases its state (and the stored
            // assignments again, with the audit entry) when the forget event reaches it, in order with its other events.
            await users.Assignments.DeleteUserAsync(s.Assignments.StoreKey(id), ct);
            s.Assignments.Forget(id);
            await users.RequestErasure(id, ct);
            return Results.Json(new { status = "accepted", detail = "state, stored assignments and removable experiment contributions are erased when the forget event is processed" }, statusCode: 202);
        });
        admin.MapPost("/experiments/{id}/status", async (string id, string? to, CancellationToken ct) =>
        {
            if (!s.Catalog.Current.TryGet(id, out var current)) return AssignmentEndpoints.Error(404, $"unknown experiment '{id}'");
            if (to is null || !ExperimentNames.Statuses.TryGetValue(to, out var status))
                return AssignmentEndpoints.Error(400, $"query parameter 'to' must be one of: {string.Join(", ", ExperimentNames.Statuses.Keys)}");
            var next = current with { Status = status, Version = current.Version + 1 };
            return await PutAsync(s, id, ExperimentDefinitionJson.ToJson(next), ct);
        });
    }

    private static async Task<IResult> PutAsync(ExperimentServices s, string id, string document, CancellationToken ct)
    {
        ExperimentDefinition parsed;
        try { parsed = ExperimentCatalogLoader.ParseDefinition(document, $"admin:{id}"); }
        catch (ExperimentDefinitionException e) { return Results.Json(new { error = e.Message, field = e.Field }, statusCode: 400); }
        if (parsed.Id != id) return Results.Json(new { error = $"the body's id '{parsed.Id}' differs from the URL's '{id}'", field = "id" }, statusCode: 400);
        if (s.Catalog.Current.TryGet(id, out var current) && parsed.Version <= current.Version)
            return Results.Json(new { error = $"version {parsed.Version} is not greater than the version in force ({current.Version}); bump 'version'", field = "version" }, statusCode: 409);
        if (s.Catalog.Current.TryGet(id, out var old) && old.Salt != parsed.Salt && old.Status == ExperimentStatus.Running)
            return Results.Json(new { error = "changing 'salt' of a running experiment would reassign its users; stop it or keep the salt", field = "salt" }, statusCode: 409);
        var stored = new StoredDefinition(id, parsed.Version, document, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        if (!await s.Definitions.PutDefinitionAsync(stored, ct))
            return Results.Json(new { error = $"another admin stored version {parsed.Version} or later first; re-read and retry", field = "version" }, statusCode: 409);
        s.Catalog.Apply(await s.Definitions.ListDefinitionsAsync(ct));
        return Results.Json(new { id, version = parsed.Version, catalog_version = s.Catalog.Current.Version });
    }

    internal static IResult? Authorized(HttpRequest request, string? token)
    {
        if (token is null) return AssignmentEndpoints.Error(403, "admin API disabled: set Http:AdminToken or Http:AdminTokenFile");
        var header = request.Headers.Authorization.ToString();
        const string prefix = "Bearer ";
        if (!header.StartsWith(prefix, StringComparison.Ordinal))
            return Results.Json(new { error = "missing 'Authorization: Bearer <token>'" }, statusCode: 401);
        // Constant-time comparison: the token must not leak through response timing.
        var given = Encoding.UTF8.GetBytes(header[prefix.Length..].Trim());
        var expected = Encoding.UTF8.GetBytes(token);
        return CryptographicOperations.FixedTimeEquals(given, expected) ? null : Results.Json(new { error = "invalid admin token" }, statusCode: 401);
    }
}
