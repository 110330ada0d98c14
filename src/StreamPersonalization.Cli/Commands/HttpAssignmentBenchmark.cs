using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;
using StreamPersonalization.Core.Experiments.Definitions;
using StreamPersonalization.Node;
using StreamPersonalization.Node.Experiments;
using StreamPersonalization.Node.Hosting;
using StreamPersonalization.Node.Http;
using StreamPersonalization.Node.Kafka;
using StreamPersonalization.Storage.Sqlite;

namespace StreamPersonalization.Cli.Commands;

/// <summary>
/// <c>GET /v1/assignments/{experiment}?user=</c> through Kestrel on loopback with the node's real assignment path
/// (cache, SQLite store, group-commit writer), driven open-loop at a fixed rate: each request's latency is measured
/// from when it was due, not when it was sent, so a stalled server cannot hide its queueing (no coordinated
/// omission). The load generator runs in the same process and shares the cores.
/// </summary>
internal static class HttpAssignmentBenchmark
{
    public static async Task RunAsync(NodeSettings settings, int rate, TimeSpan duration, int users, Table table, CancellationToken ct)
    {
        var dir = Directory.CreateTempSubdirectory("sp-bench-http-").FullName;
        try
        {
            var path = Path.Combine(dir, "bench.db");
            await using var store = new SqliteCheckpointStore(new SqliteStoreOptions { Path = path });
            await store.InitializeAsync(ct);
            var catalog = new ExperimentCatalogSource(settings.LoadExperiments() ?? throw new InvalidOperationException("the HTTP benchmark needs an experiment catalog (Experiments:File)"));
            var experiment = catalog.Current.Experiments.First(e => e.Kind == ExperimentKind.Fixed && e.Status == ExperimentStatus.Running && e.Targeting == TargetingRule.Everyone).Id;
            var segments = settings.LoadCatalog();
            var assignments = new SqliteAssignmentStore(new SqliteStoreOptions { Path = path });
            await using var writer = new AssignmentWriter(assignments, settings.Experiments.AssignmentWriteBatch, NullLogger<AssignmentWriter>.Instance);
            var board = new SnapshotBoard();
            var service = new AssignmentService(catalog, segments, new UserFactsReader(store, segments), assignments, writer, board, settings.Experiments);
            var node = new StreamNode(settings.Node, settings.Kafka, settings.Shards, segments, store, new KafkaClientFactory(settings.Kafka), NullLoggerFactory.Instance);
            await using var app = await HealthEndpoints.StartAsync(node, new HttpOptions { Urls = "http://127.0.0.1:0" },
                new ExperimentServices(catalog, service, board, new SqliteDefinitionStore(new SqliteStoreOptions { Path = path }), null), NullLoggerFactory.Instance, ct);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 512 }) { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };

            await LoadAsync(http, experiment, rate, TimeSpan.FromSeconds(3), users, "warm", ct);   // JIT, connections, pool
            var seen = new HashSet<int>();
            var (latencies, firstTime, fromSend, errors, elapsed) = await LoadAsync(http, experiment, rate, duration, users, "run", ct, seen);
            latencies.Sort();
            firstTime.Sort();
            fromSend.Sort();
            var achieved = latencies.Count / elapsed.TotalSeconds;
            double Ms(List<double> l, double q) => l.Count == 0 ? double.NaN : l[(int)(q * (l.Count - 1))];
            var p99 = Ms(latencies, 0.99);
            table.AddRow($"HTTP GET /v1/assignments/{experiment}, open loop {rate:N0} req/s for {duration.TotalSeconds:N0} s, {users:N0} users (SQLite, loopback, generator in-process)",
                $"[bold]{achieved:N0} req/s[/], p50 {Ms(latencies, 0.5):F2} ms, p99 {p99:F2} ms, p99.9 {Ms(latencies, 0.999):F2} ms, max {latencies.LastOrDefault():F1} ms; " +
                $"first assignments {firstTime.Count:N0}: p50 {Ms(firstTime, 0.5):F2} ms, p99 {Ms(firstTime, 0.99):F2} ms; from send: p50 {Ms(fromSend, 0.5):F2} ms, p99 {Ms(fromSend, 0.99):F2} ms; {writer.Commits:N0} store commits; errors {errors}",
                p99 < 2 ? "p99 < 2 ms: [green]met[/]" : "p99 < 2 ms: [red]not met[/]");
        }
        finally
        {
            SqliteConnectionPoolReset();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<(List<double> All, List<double> First, List<double> FromSend, int Errors, TimeSpan Elapsed)> LoadAsync(HttpClient http, string experiment,
        int rate, TimeSpan duration, int users, string prefix, CancellationToken ct, HashSet<int>? seen = null)
    {
        var total = (int)(rate * duration.TotalSeconds);
        var rng = new Random(42);
        var all = new ConcurrentBag<double>();
        var first = new ConcurrentBag<double>();
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
                var isFirst = seen?.Add(user) ?? false;
                inflight.Add(SendAsync($"/v1/assignments/{experiment}?user={prefix}-{user}", dueTicks, isFirst));
            }
        }) { IsBackground = true, Priority = ThreadPriority.AboveNormal };
        pacer.Start();
        await Task.Run(pacer.Join, ct);
        await Task.WhenAll(inflight);
        return ([.. all], [.. first], [.. fromSend], errors, clock.Elapsed);

        async Task SendAsync(string path, long dueTicks, bool isFirst)
        {
            var sent = clock.ElapsedTicks;
            try
            {
                using var response = await http.GetAsync(path, ct).ConfigureAwait(false);
                await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode) Interlocked.Increment(ref errors);
            }
            catch (HttpRequestException) { Interlocked.Increment(ref errors); }
            var done = clock.ElapsedTicks;
            var ms = (done - dueTicks) * 1000.0 / Stopwatch.Frequency;
            all.Add(ms);
            fromSend.Add((done - sent) * 1000.0 / Stopwatch.Frequency);
            if (isFirst) first.Add(ms);
        }
    }

    private static void SqliteConnectionPoolReset() => Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
}
