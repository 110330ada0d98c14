using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace StreamPersonalization.Node.Tests.Support;

/// <summary>
/// A node as a separate OS process (<c>sp run</c>), so tests can kill it for real: SIGKILL leaves no
/// chance to checkpoint or leave the group; SIGTERM asks for a graceful drain.
/// </summary>
public sealed class NodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private NodeProcess(Process process) => _process = process;

    /// <param name="programDirectory">Where sp.dll is (default: this test's output, which has the program beside it).</param>
    public static NodeProcess Start(IEnumerable<string> args, string? programDirectory = null)
    {
        var spDll = Path.Combine(programDirectory ?? AppContext.BaseDirectory, "sp.dll");
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = StreamPersonalization.Tests.RepoPaths.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(spDll);
        var list = args.ToList();
        // Several nodes run side by side in a test: each takes a free Akka remoting port unless the test names one.
        if (list is ["run", ..] && !list.Contains("--akka-port")) list.AddRange(["--akka-port", "0"]);
        foreach (var a in list) info.ArgumentList.Add(a);
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start sp");
        var node = new NodeProcess(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (node._log) node._log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (node._log) node._log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    public bool HasExited => _process.HasExited;

    /// <summary>The OS process id (e.g. to sample <c>/proc/&lt;pid&gt;/status</c>).</summary>
    public int Pid => _process.Id;

    public int ExitCode => _process.ExitCode;

    public string Log { get { lock (_log) return _log.ToString(); } }

    /// <summary>Waits until the node's log contains <paramref name="text"/> (e.g. that it owns partitions).</summary>
    public async Task WaitForLogAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Log.Contains(text, StringComparison.Ordinal))
        {
            if (HasExited) throw new InvalidOperationException($"node exited with {ExitCode} before logging '{text}':\n{Log}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"node did not log '{text}' within {timeout}:\n{Log}");
            await Task.Delay(20);
        }
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(cts.Token); return true; }
        catch (OperationCanceledException) { return false; }
    }

    public void Kill()
    {
        _process.Kill(entireProcessTree: true);   // SIGKILL
        _process.WaitForExit();
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    /// <summary>SIGTERM, then waits for a graceful exit.</summary>
    public bool Terminate(TimeSpan timeout)
    {
        kill(_process.Id, 15);
        return _process.WaitForExit(timeout);
    }

    /// <summary>SIGSTOP: the process stops running (no heartbeats, no Kafka polls) but keeps its sockets open, as a
    /// node cut off by a network partition or frozen by a long GC pause or a stalled VM.</summary>
    public void Freeze() => kill(_process.Id, 19);

    /// <summary>SIGCONT after <see cref="Freeze"/>.</summary>
    public void Thaw() => kill(_process.Id, 18);

    public void Dispose()
    {
        if (!_process.HasExited) { Thaw(); Kill(); }
        _process.Dispose();
    }
}
