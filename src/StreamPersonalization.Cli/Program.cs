using System.CommandLine;
using StreamPersonalization.Cli.Commands;

var root = new RootCommand("sp: StreamPersonalization, a streaming personalization and experimentation engine.")
{
    DemoCommand.Create(),
    RunCommand.Create(),
    ProduceCommand.Create(),
    BenchCommand.Create(),
};
// Verbs handle SIGTERM/SIGINT themselves (ShutdownSignal): the node drains and checkpoints within
// Node:ShutdownTimeout and the verb returns its own exit code.
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = null };
return await root.Parse(args).InvokeAsync(invocation);
