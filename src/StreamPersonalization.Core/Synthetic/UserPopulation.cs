using System.Text.Json;

namespace StreamPersonalization.Core.Synthetic;

/// <summary>
/// A user's stable traits. Activity is log-normal (mean 1, heavy tail) so a minority of users
/// produce a large share of sessions, as in real clickstreams. Strings the writer emits are kept
/// pre-encoded next to the plain id.
/// </summary>
internal sealed record UserProfile(
    int Index,
    string Id,
    JsonEncodedText IdJson,
    JsonEncodedText PrimaryDevice,
    JsonEncodedText Country,
    double Activity,
    double MeanSessionGapMs,
    JsonEncodedText? Variant)
{
    /// <summary>Treatment users purchase a little more often, so experiment statistics have an effect to find.</summary>
    public bool IsTreatment => Variant is { } v && v.Equals(UserPopulation.Treatment);
}

/// <summary>A user's profile plus the mutable state of its current session and its next event time.</summary>
internal sealed class SimulatedUser(UserProfile profile, long nextEventMs)
{
    public UserProfile Profile { get; } = profile;
    public long NextEventMs = nextEventMs;

    public int RemainingEvents;
    public int EventsInSession;
    public JsonEncodedText SessionDevice = profile.PrimaryDevice;
    public JsonEncodedText CurrentPage = UserPopulation.Home;
    public int CurrentProduct = -1;
    public int CartItems;
    public decimal CartTotal;
    public bool ExposurePending;
}

/// <summary>Creates the user population from the profile stream, independent of the event streams.</summary>
internal static class UserPopulation
{
    /// <summary>Experiment the generator's exposure events belong to; half the users are enrolled.</summary>
    public const string ExperimentId = "exp-checkout-1";
    public static readonly JsonEncodedText ExperimentIdJson = JsonEncodedText.Encode(ExperimentId);
    public static readonly JsonEncodedText Treatment = JsonEncodedText.Encode("treatment");
    public static readonly JsonEncodedText Control = JsonEncodedText.Encode("control");
    public static readonly JsonEncodedText Home = JsonEncodedText.Encode("/");
    public const double EnrolledShare = 0.5;
    private const double ActivitySigma = 1.0;
    private const double DayMs = 86_400_000;

    public static SimulatedUser[] Create(ClickstreamGeneratorOptions options, DeterministicRandom rng)
    {
        var devices = Table(options.Devices);
        var countries = Table(options.Countries);
        long startMs = options.StartTime.ToUnixTimeMilliseconds();
        int width = Math.Max(6, options.Users.ToString(System.Globalization.CultureInfo.InvariantCulture).Length);
        var users = new SimulatedUser[options.Users];
        for (int i = 0; i < users.Length; i++)
        {
            int index = i + 1;
            string id = "u" + index.ToString("D" + width, System.Globalization.CultureInfo.InvariantCulture);
            double activity = Math.Clamp(
                Math.Exp(ActivitySigma * rng.StandardNormal() - ActivitySigma * ActivitySigma / 2), 0.05, 20);
            double meanGap = DayMs / (options.MeanSessionsPerUserPerDay * activity);
            JsonEncodedText? variant = rng.Chance(EnrolledShare) ? (rng.Chance(0.5) ? Treatment : Control) : null;
            var profile = new UserProfile(index, id, JsonEncodedText.Encode(id), devices.Pick(rng), countries.Pick(rng), activity, meanGap, variant);
            // Exponential offset = the stationary wait of a Poisson process, so users don't all start at t0.
            users[i] = new SimulatedUser(profile, startMs + (long)rng.Exponential(meanGap));
        }
        return users;
    }

    public static WeightedTable<JsonEncodedText> Table(IReadOnlyList<WeightedChoice> choices) =>
        new(choices.Select(c => (JsonEncodedText.Encode(c.Value), c.Weight)).ToArray());
}
