using System.CommandLine;
using Spectre.Console;
using StreamPersonalization.Core.Synthetic;
using StreamPersonalization.Node.Kafka;

namespace StreamPersonalization.Cli.Commands;

/// <summary><c>sp produce</c>: synthetic clickstream into a Kafka topic, deterministic under a seed.</summary>
internal static class ProduceCommand
{
    public static Command Create()
    {
        var bootstrap = CommonOptions.Bootstrap("Kafka bootstrap servers, e.g. 127.0.0.1:9092 (required).");
        bootstrap.Required = true;
        var topic = new Option<string>("--topic") { Description = "Target topic.", DefaultValueFactory = _ => "clickstream" };
        var count = new Option<long>("--count") { Description = "Records to produce (valid and bad).", DefaultValueFactory = _ => 100_000 };
        var rate = new Option<double>("--rate") { Description = "Records per second; 0 = as fast as possible.", DefaultValueFactory = _ => 0 };
        var seed = new Option<long>("--seed") { Description = "Random seed; the same seed gives byte-identical records.", DefaultValueFactory = _ => 42 };
        var users = new Option<int>("--users") { Description = "Simulated users.", DefaultValueFactory = _ => 10_000 };
        var badShare = new Option<double>("--bad-share") { Description = "Share of malformed records (0..1).", DefaultValueFactory = _ => 0.01 };
        var command = new Command("produce", "Produce realistic synthetic clickstream (sessions, devices, funnels, a share of bad records) to Kafka.")
        {
            bootstrap, topic, count, rate, seed, users, badShare,
        };
        command.SetAction((parse, ct) =>
        {
            if (!StartupErrors.KafkaLoads()) return Task.FromResult(StartupErrors.ConfigurationError);
            var options = new ClickstreamGeneratorOptions
            {
                Seed = parse.GetValue(seed), Users = parse.GetValue(users), BadRecordShare = parse.GetValue(badShare),
            };
            options.Validate();
            var total = parse.GetValue(count);
            using var producer = SyntheticProducer.CreateBulkProducer(parse.GetValue(bootstrap)!);
            var publisher = new SyntheticProducer(producer, parse.GetValue(topic)!);
            var records = new ClickstreamGenerator(options).Generate(total);
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask($"producing {total:N0} records", maxValue: total);
                    publisher.Produce(records, parse.GetValue(rate), n => task.Value = n, ct);
                });
            AnsiConsole.MarkupLine($"delivered [green]{publisher.Delivered:N0}[/], failed [red]{publisher.Failed:N0}[/]");
            return Task.FromResult(publisher.Failed == 0 ? 0 : 1);
        });
        return command;
    }
}
