using System.Collections.Concurrent;
using System.Diagnostics;

namespace StreamPersonalization.Cli.Commands;

/// <summary>
/// Open-loop HTTP GET load at a fixed rate: each request's latency is measured from when it was due, not when it was
/// sent, so a stalled server cannot hide its queueing (no coordinated omission). Users are drawn uniformly (seeded)
/// from <c>users</c> ids; the first request of a user in a run is reported apart (it stores a new assignment).
/// </summary>
internal static class OpenLoopLoad
{
    public static async Task<LoadSummary> RunAsync(HttpClient http, string experiment, int rate, TimeSpan duration, int users, string prefix, CancellationToken ct)
    {
        var total = (int)(rate * duration.TotalSeconds);
        var rng = new Random(42);
        var seen = new HashSet<int>();
        var first = new ConcurrentBag<double>();
        var repeat = new ConcurrentBag<double>();
        var fromSend = new ConcurrentBag<double>();
        var errors = 0;
        var inflight = new List<Task>(total);
        var clock = Stopwatch.StartNew();
        var ticksPerRequest = Stopwatch.Frequency / (double)rate;
        // A dedicated thread paces the requests: Task.Delay's ~1 ms timer granularity would make the generator, not the
        // server, late. It sleeps while the next request is more than 1.5 ms away and yields the core while closer.
        var pacer = new Thread(() =>
        {
            for (var i = 0; i < total && !ct.IsCancellationRequested; i++)
            {
                var dueTicks = (long)(i * ticksPerRequest);
                while (true)
                {
                    var left = dueTicks - clock.ElapsedTicks;
                    if (left <= 0) break;
                    if (left > Stopwatch.Frequency * 15 / 10_000) Thread.Sleep(1); else Thread.Yield();
                }
                var user = rng.Next(users);
                inflight.Add(SendAsync($"/v1/assignments/{experiment}?user={prefix}-{user}", dueTicks, seen.Add(user)));
            }
        }) { IsBackground = true, Priority = ThreadPriority.AboveNormal };
        pacer.Start();
        await Task.Run(pacer.Join, ct);
        await Task.WhenAll(inflight);
        var elapsed = clock.Elapsed;
        var all = first.Concat(repeat).ToList();
        return new LoadSummary(all.Count, all.Count / elapsed.TotalSeconds, Quantiles.Of(all), Quantiles.Of([.. first]), Quantiles.Of([.. repeat]),
            Quantiles.Of([.. fromSend]), errors);

        async Task SendAsync(string path, long dueTicks, bool isFirst)
        {
            var sent = clock.ElapsedTicks;
            try
            {
                using var response = await http.GetAsync(path, ct).ConfigureAwait(false);
                await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode) Interlocked.Increment(ref errors);
            }
            catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !ct.IsCancellationRequested))
            {
                Interlocked.Increment(ref errors);   // refused, reset, or the client's timeout: an error, not the end of the run
            }
            var done = clock.ElapsedTicks;
            (isFirst ? first : repeat).Add((done - dueTicks) * 1000.0 / Stopwatch.Frequency);
            fromSend.Add((done - sent) * 1000.0 / Stopwatch.Frequency);
        }
    }
}

/// <summary>Latency quantiles in milliseconds (NaN when there were no samples).</summary>
internal sealed record Quantiles(int Count, double P50, double P99, double P999, double Max)
{
    public static Quantiles Of(List<double> ms)
    {
        ms.Sort();
        double Q(double q) => ms.Count == 0 ? double.NaN : ms[(int)(q * (ms.Count - 1))];
        return new(ms.Count, Q(0.5), Q(0.99), Q(0.999), ms.Count == 0 ? double.NaN : ms[^1]);
    }

    public override string ToString() => $"p50 {P50:F2} ms, p99 {P99:F2} ms, p99.9 {P999:F2} ms, max {Max:F1} ms";
}

/// <summary>What one load run measured: all requests, first requests of a user, repeat requests, and time from send.</summary>
internal sealed record LoadSummary(int Requests, double Rate, Quantiles All, Quantiles First, Quantiles Repeat, Quantiles FromSend, int Errors);
