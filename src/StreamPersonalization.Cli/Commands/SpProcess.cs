using System.Diagnostics;

namespace StreamPersonalization.Cli.Commands;

/// <summary>Starting this program again as a child process (benchmark nodes, the load generator).</summary>
internal static class SpProcess
{
    /// <summary>
    /// A start for <c>sp <paramref name="args"/></c> with output redirected, in the current directory: run as
    /// "dotnet sp.dll" the assembly is passed to the host; run as the apphost "sp" the host is the program itself.
    /// </summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var host = Environment.ProcessPath ?? "dotnet";
        var info = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Environment.CurrentDirectory };
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            info.ArgumentList.Add(typeof(SpProcess).Assembly.Location);
        foreach (var a in args) info.ArgumentList.Add(a);
        return info;
    }
}
