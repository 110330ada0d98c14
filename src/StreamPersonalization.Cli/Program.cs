using System.CommandLine;
using StreamPersonalization.Cli.Commands;

// SQLite's ADO.NET provider and librdkafka's .NET client block their calling thread: with only a handful of pool
// threads on a small machine, a burst of HTTP requests waiting on store reads would wait for thread injection
// (hundreds of ms). A larger floor keeps enough threads ready; idle ones cost little.
ThreadPool.GetMinThreads(out var workers, out var completion);
ThreadPool.SetMinThreads(Math.Max(workers, 64), Math.Max(completion, 64));

var root = new RootCommand("sp: StreamPersonalization, a streaming personalization and experimentation engine.")
{
    DemoCommand.Create(),
    RunCommand.Create(),
    ProduceCommand.Create(),
    BenchCommand.Create(),
    LoadgenCommand.Create(),
    ClusterCommand.Create(),
};
// Verbs handle SIGTERM/SIGINT themselves (ShutdownSignal): the node drains and checkpoints within
// Node:ShutdownTimeout and the verb returns its own exit code.
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = null };
return await root.Parse(args).InvokeAsync(invocation);
