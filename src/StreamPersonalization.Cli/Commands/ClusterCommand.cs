using System.CommandLine;
using System.Net.Http.Headers;
using System.Text.Json;
using Spectre.Console;

namespace StreamPersonalization.Cli.Commands;

/// <summary>
/// <c>sp cluster</c>: the Akka cluster as a running node sees it, through its admin route (<c>/v1/admin/cluster</c>):
/// <c>members</c> lists members with status, reachability and the partitions (user shards) and entities each holds;
/// <c>leave ADDRESS</c> makes that member leave gracefully (it drains, checkpoints, hands off and stops).
/// </summary>
internal static class ClusterCommand
{
    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "A node's HTTP address.", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var token = new Option<string?>("--token") { Description = "Admin bearer token (Http:AdminToken). Default: environment variable SP_ADMIN_TOKEN." };
        var tokenFile = new Option<string?>("--token-file") { Description = "File whose first line is the admin token (Http:AdminTokenFile)." };
        var members = new Command("members", "List cluster members, their status and the shards (Kafka partitions) and entities per node.") { url, token, tokenFile };
        members.SetAction(async (parse, ct) =>
        {
            using var http = Client(parse.GetValue(url)!, Token(parse.GetValue(token), parse.GetValue(tokenFile)));
            if (http is null) return StartupErrors.ConfigurationError;
            using var response = await Send(http, () => http.GetAsync("/v1/admin/cluster", ct));
            if (response is null) return 1;
            var body = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode) return Fail(response, body);
            Print(JsonDocument.Parse(body).RootElement);
            return 0;
        });
        var address = new Argument<string>("address") { Description = "The member's address, e.g. akka.tcp://sp@10.0.0.7:4053 (see 'sp cluster members')." };
        var leave = new Command("leave", "Make a member leave the cluster gracefully (it checkpoints, hands off its shards and stops).") { address, url, token, tokenFile };
        leave.SetAction(async (parse, ct) =>
        {
            using var http = Client(parse.GetValue(url)!, Token(parse.GetValue(token), parse.GetValue(tokenFile)));
            if (http is null) return StartupErrors.ConfigurationError;
            var target = parse.GetValue(address)!;
            using var response = await Send(http, () => http.PostAsync($"/v1/admin/cluster/leave?address={Uri.EscapeDataString(target)}", null, ct));
            if (response is null) return 1;
            var body = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode) return Fail(response, body);
            Console.WriteLine($"{target} is leaving");
            return 0;
        });
        return new Command("cluster", "Show the Akka cluster (members, shards per node) or make a member leave.") { members, leave };
    }

    private static string? Token(string? token, string? file) =>
        token ?? (file is not null && File.Exists(file) ? File.ReadLines(file).FirstOrDefault()?.Trim() : null) ?? Environment.GetEnvironmentVariable("SP_ADMIN_TOKEN");

    private static HttpClient? Client(string url, string? token)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            Console.Error.WriteLine($"error: --url '{url}' is not an http(s) address");
            return null;
        }
        if (string.IsNullOrEmpty(token))
        {
            Console.Error.WriteLine("error: the admin routes need a token: --token, --token-file or SP_ADMIN_TOKEN");
            return null;
        }
        var http = new HttpClient { BaseAddress = uri, Timeout = TimeSpan.FromSeconds(15) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private static async Task<HttpResponseMessage?> Send(HttpClient http, Func<Task<HttpResponseMessage>> send)
    {
        try { return await send(); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            Console.Error.WriteLine($"error: {http.BaseAddress} did not answer: {e.Message}");
            return null;
        }
    }

    private static int Fail(HttpResponseMessage response, string body)
    {
        Console.Error.WriteLine($"error: {(int)response.StatusCode} {response.ReasonPhrase}: {body}");
        return 1;
    }

    private static void Print(JsonElement view)
    {
        Console.WriteLine($"seen from {view.GetProperty("self").GetString()} ({view.GetProperty("self_status").GetString()}); leader {view.GetProperty("leader")}");
        string[] header = ["address", "status", "reachable", "leader", "node", "ready", "shards (partitions)", "entities"];
        var table = new Table().AddColumns(header);
        // Piped into a script or a file: one tab-separated line per member, never wrapped to a terminal's width.
        var plain = Console.IsOutputRedirected;
        if (plain) Console.WriteLine(string.Join('\t', header));
        foreach (var m in view.GetProperty("members").EnumerateArray())
        {
            var node = m.GetProperty("node");
            var known = node.ValueKind == JsonValueKind.Object;
            string[] cells =
            [
                m.GetProperty("address").GetString()!, m.GetProperty("status").GetString()!, m.GetProperty("reachable").GetBoolean() ? "yes" : "NO",
                m.GetProperty("leader").GetBoolean() ? "*" : "",
                known ? node.GetProperty("node_id").GetString()! : "(no answer)",
                known ? (node.GetProperty("ready").GetBoolean() ? "yes" : "no") : "",
                known ? $"{node.GetProperty("partitions").GetArrayLength()}: [{string.Join(",", node.GetProperty("partitions").EnumerateArray().Select(p => p.GetInt32()))}]" : "",
                known ? node.GetProperty("resident_entities").GetInt64().ToString("N0") : "",
            ];
            if (plain) Console.WriteLine(string.Join('\t', cells));
            else table.AddRow(cells.Select(Markup.Escape).ToArray());   // plain text: "[0,3]" is not markup
        }
        if (!plain) AnsiConsole.Write(table);
    }
}
