using System.CommandLine;
using System.Text.Json;

namespace StreamPersonalization.Cli.Commands;

/// <summary>
/// <c>sp loadgen</c>: the HTTP benchmark's load generator as its own process (so its allocations and GC pauses are
/// not the server's): a warm-up, then the measured open-loop run; prints one JSON <see cref="LoadSummary"/> line.
/// </summary>
internal static class LoadgenCommand
{
    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "Base address of a node's HTTP server, e.g. http://127.0.0.1:8080 (required).", Required = true };
        var experiment = new Option<string>("--experiment") { Description = "Experiment id to request assignments for (required).", Required = true };
        var rate = new Option<int>("--rate") { Description = "Requests per second (open loop).", DefaultValueFactory = _ => 5_000 };
        var seconds = new Option<int>("--seconds") { Description = "Measured seconds.", DefaultValueFactory = _ => 20 };
        var warm = new Option<int>("--warm-seconds") { Description = "Unmeasured seconds first (JIT, connections), with other users.", DefaultValueFactory = _ => 3 };
        var users = new Option<int>("--users") { Description = "Distinct users drawn from.", DefaultValueFactory = _ => 50_000 };
        var command = new Command("loadgen", "HTTP assignment load generator used by 'sp bench --only http' (open loop, prints a JSON summary).")
        {
            url, experiment, rate, seconds, warm, users,
        };
        command.SetAction(async (parse, ct) =>
        {
            foreach (var (name, value) in new[] { ("--rate", parse.GetValue(rate)), ("--seconds", parse.GetValue(seconds)), ("--users", parse.GetValue(users)) })
                if (value <= 0) { Console.Error.WriteLine($"{name} must be positive (got {value})"); return 2; }
            using var http = Client(parse.GetValue(url)!);
            var exp = parse.GetValue(experiment)!;
            if (parse.GetValue(warm) > 0)
                await OpenLoopLoad.RunAsync(http, exp, parse.GetValue(rate), TimeSpan.FromSeconds(parse.GetValue(warm)), parse.GetValue(users), "warm", ct);
            var summary = await OpenLoopLoad.RunAsync(http, exp, parse.GetValue(rate), TimeSpan.FromSeconds(parse.GetValue(seconds)), parse.GetValue(users), "run", ct);
            Console.WriteLine(JsonSerializer.Serialize(summary, Json));
            return 0;
        });
        return command;
    }

    /// <summary>JSON of the summary (NaN allowed: a run without first-time users has no first-request quantiles).</summary>
    public static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static HttpClient Client(string baseAddress) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = 512 }) { BaseAddress = new Uri(baseAddress), Timeout = TimeSpan.FromSeconds(30) };
}
