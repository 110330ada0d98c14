using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace StreamPersonalization.Node.Hosting;

/// <summary>
/// Akka's log events (the ingest graph's partitions, sharding, remoting, the cluster) written through the node's
/// <see cref="ILoggerFactory"/>, so a node has one log format and one place to set levels. Category: the class that
/// logged (e.g. <c>Akka.Cluster.Sharding.ShardRegion</c>); <c>akka.loglevel</c> (HOCON) still decides what Akka emits.
/// Registered by <see cref="Configure"/> for <c>sp run</c> and <c>sp demo</c> (the factory is process-wide).
/// </summary>
public sealed class AkkaLoggerBridge : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    private static ILoggerFactory s_loggers = NullLoggerFactory.Instance;

    public AkkaLoggerBridge()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(Write);
    }

    /// <summary>Routes Akka's logging of systems created with the returned configuration to <paramref name="loggers"/>.</summary>
    public static Akka.Configuration.Config Configure(Akka.Configuration.Config config, ILoggerFactory loggers)
    {
        s_loggers = loggers;
        var type = typeof(AkkaLoggerBridge);
        return Akka.Configuration.ConfigurationFactory.ParseString($"akka.loggers = [\"{type.FullName}, {type.Assembly.GetName().Name}\"]").WithFallback(config);
    }

    private static void Write(LogEvent e)
    {
        var logger = s_loggers.CreateLogger(e.LogClass?.FullName ?? "Akka");
        var level = e.LogLevel() switch
        {
            Akka.Event.LogLevel.DebugLevel => Microsoft.Extensions.Logging.LogLevel.Debug,
            Akka.Event.LogLevel.InfoLevel => Microsoft.Extensions.Logging.LogLevel.Information,
            Akka.Event.LogLevel.WarningLevel => Microsoft.Extensions.Logging.LogLevel.Warning,
            _ => Microsoft.Extensions.Logging.LogLevel.Error,
        };
        if (!logger.IsEnabled(level)) return;
        logger.Log(level, (e as Error)?.Cause, "{AkkaSource}: {Message}", e.LogSource, e.Message);
    }
}
