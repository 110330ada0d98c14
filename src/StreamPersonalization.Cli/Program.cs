using System.CommandLine;
using StreamPersonalization.Cli.Commands;

var root = new RootCommand("sp: StreamPersonalization, a streaming personalization and experimentation engine.")
{
    DemoCommand.Create(),
    RunCommand.Create(),
    ProduceCommand.Create(),
    BenchCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
