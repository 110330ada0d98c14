using Microsoft.Extensions.Logging;

namespace StreamPersonalization.Cli.Commands;

internal static class Logging
{
    public static ILoggerFactory Create(LogLevel level) => LoggerFactory.Create(b => b
        .SetMinimumLevel(level)
        .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; }));
}
