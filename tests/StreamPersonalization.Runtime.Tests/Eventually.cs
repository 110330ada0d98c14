using System.Runtime.CompilerServices;

namespace StreamPersonalization.Runtime.Tests;

/// <summary>Waits for a condition that other threads (a stream, actors, a consumer) make true.</summary>
internal static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> every 20 ms; throws <see cref="TimeoutException"/> naming it (or
    /// <paramref name="what"/>) when it is still false after <paramref name="timeout"/> (default 60 s).</summary>
    public static async Task UntilAsync(Func<bool> condition, TimeSpan? timeout = null, [CallerArgumentExpression(nameof(condition))] string what = "")
    {
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        var deadline = DateTime.UtcNow + limit;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within {limit.TotalSeconds:F0} s: {what}");
            await Task.Delay(20);
        }
    }
}
