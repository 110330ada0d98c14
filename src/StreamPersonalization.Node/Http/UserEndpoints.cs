using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using StreamPersonalization.Core.Engagement;
using StreamPersonalization.Core.Users;

namespace StreamPersonalization.Node.Http;

/// <summary>
/// <c>GET /v1/users/{id}/explanation</c> (public read, like assignments): which segments the user is in, the rule
/// that put them there with the feature values it saw, and the experiments they are in — or that personalization is
/// off and why. The id is pseudonymised like the clickstream's before anything is looked up; the answer repeats only
/// the id the caller sent. The state comes from the user's actor when one holds it (<c>from: "actor"</c>, through the
/// region: any node answers for any user), else from the last checkpoint (<c>from: "checkpoint"</c>). Admin: <c>POST /v1/admin/users/{id}/forget</c> (see <see cref="AdminEndpoints"/>).
/// </summary>
public static class UserEndpoints
{
    public static void Map(WebApplication app, ExperimentServices s)
    {
        if (s.Users is not { } u) return;
        app.MapGet("/v1/users/{id}/explanation", async (string id, CancellationToken ct) =>
        {
            if (id.Length is 0 or > AssignmentEndpoints.MaxUserKeyLength) return AssignmentEndpoints.Error(400, $"user id must have 1..{AssignmentEndpoints.MaxUserKeyLength} characters");
            var key = s.Assignments.StoreKey(id);
            // The actor's state is ahead of the row by up to one checkpoint interval; the row answers when no actor holds the user.
            var live = u.Live is null ? null : await u.Live.FindAsync(id, key, ct);
            var state = live is not null ? live.State : await u.Lookup.FindEntityAsync(Experiments.UserFactsReader.UsersScope, key, ct);
            var from = live is not null ? "actor" : "checkpoint";
            if (state is null) return Results.Json(new { user = id, known = false, personalization = "unknown", reason = "no state stored for this user (never seen, erased, or deleted by retention)", from });
            var user = UserStateSerializer.Deserialize(key, state, u.Segments);
            var off = user.ConsentWithdrawn ? "consent_withdrawn" : u.PersonalizationOff(user.Engagement.Country) ? "market_disabled" : null;
            var asOf = user.Engagement.LastEventMs;
            var features = default(UserFeatures);
            if (asOf != long.MinValue) user.Engagement.Fill(asOf, u.Decay, ref features);
            var segments = off is not null ? [] : u.Segments.Segments.Where(d => (user.Membership & (1UL << d.Index)) != 0).Select(d => new
            {
                id = d.Id,
                rule = d.Rule.Source,
                because = d.Rule.Explain(in features),
            }).ToList();
            var experiments = new List<object>();
            foreach (var e in off is null ? s.Catalog.Current.Experiments : [])
            {
                var stored = (await u.Assignments.GetAsync(e.Id, [key], ct)).FirstOrDefault();
                var exposures = (user.Exposures ?? []).Where(x => x.ExperimentId == e.Id).ToList();
                if (stored is null && exposures.Count == 0) continue;
                experiments.Add(new
                {
                    id = e.Id,
                    assigned_variant = stored?.Variant,
                    exposed_variants = exposures.Select(x => x.VariantId),
                    converted = exposures.Any(x => x.Converted),
                });
            }
            return Results.Json(new
            {
                user = id,
                known = true,
                personalization = off is null ? "on" : "off",
                reason = off,
                as_of = asOf == long.MinValue ? null : DateTimeOffset.FromUnixTimeMilliseconds(asOf).ToString("O"),
                segments,
                experiments,
                from,
            });
        });
    }
}
