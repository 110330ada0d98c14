using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace StreamPersonalization.Cli.Commands;

/// <summary>
/// An <c>sp run</c> child process of the scale benchmark: started with this executable, its log read line by line
/// (times of its partition assignments kept), stopped with SIGKILL or SIGTERM.
/// </summary>
internal sealed partial class BenchNodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly Stopwatch _clock;
    private readonly List<string> _tail = new();
    private readonly object _gate = new();

    private BenchNodeProcess(string id, Process process, Stopwatch clock)
    {
        Id = id;
        _process = process;
        _clock = clock;
    }

    public string Id { get; }

    /// <summary>When (on the benchmark's clock) the node first logged a non-empty partition assignment (logged after
    /// the assigned shards loaded their checkpoints and timers).</summary>
    public TimeSpan? FirstAssigned { get; private set; }

    /// <summary>When the node logged that it subscribed (process started, configuration and store opened).</summary>
    public TimeSpan? Subscribed { get; private set; }

    /// <summary>Partitions the node owns according to its log (assigned minus revoked or lost).</summary>
    public IReadOnlyCollection<int> Owned { get { lock (_gate) return _owned.ToList(); } }

    private readonly HashSet<int> _owned = new();

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <c>sp run</c> with <paramref name="args"/> (after "run") in the current directory.</summary>
    public static BenchNodeProcess Start(string id, IEnumerable<string> args, Stopwatch clock)
    {
        var process = Process.Start(SpProcess.StartInfo(args.Prepend("run").Append("--akka-port").Append("0"))) ?? throw new InvalidOperationException("could not start sp run");
        var node = new BenchNodeProcess(id, process, clock);
        process.OutputDataReceived += (_, e) => node.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => node.OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    [GeneratedRegex(@"assigned partitions \[([0-9,]*)\]")]
    private static partial Regex AssignedLine();

    [GeneratedRegex(@"Shard (\d+) stopped( \(| without)")]
    private static partial Regex StoppedLine();

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_gate)
        {
            _tail.Add(line);
            if (Subscribed is null && line.Contains(" joined group ", StringComparison.Ordinal)) Subscribed = _clock.Elapsed;
            if (_tail.Count > 40) _tail.RemoveAt(0);
            if (AssignedLine().Match(line) is { Success: true } a && a.Groups[1].Value.Length > 0)
            {
                foreach (var p in a.Groups[1].Value.Split(',')) _owned.Add(int.Parse(p));
                FirstAssigned ??= _clock.Elapsed;
            }
            if (StoppedLine().Match(line) is { Success: true } s) _owned.Remove(int.Parse(s.Groups[1].Value));
        }
    }

    /// <summary>The last lines of the node's log (for error messages).</summary>
    public string Tail { get { lock (_gate) return string.Join('\n', _tail); } }

    /// <summary>SIGKILL: no checkpoint, no LeaveGroup.</summary>
    public void Kill()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);

    /// <summary>SIGTERM and a wait for the graceful exit; SIGKILL after <paramref name="timeout"/>.</summary>
    public void Terminate(TimeSpan timeout)
    {
        if (_process.HasExited) return;
        SendSignal(_process.Id, 15);
        if (!_process.WaitForExit(timeout)) Kill();
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
