using System.Runtime.InteropServices;

namespace StreamPersonalization.Cli.Commands;

/// <summary>
/// Turns SIGTERM and SIGINT (Ctrl-C) into a cancellation the node handles: it drains, checkpoints every
/// shard and leaves the group, then the verb returns its own exit code (0 for a clean stop).
/// System.CommandLine's own termination handling is off (see Program.cs): it would report 130/143.
/// </summary>
internal sealed class ShutdownSignal : IDisposable
{
    private readonly CancellationTokenSource _cts;
    private readonly PosixSignalRegistration[] _registrations;

    public ShutdownSignal(CancellationToken outer)
    {
        _cts = CancellationTokenSource.CreateLinkedTokenSource(outer);
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle), PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle)];
    }

    public CancellationToken Token => _cts.Token;

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true;   // keep the process alive until the node has checkpointed
        _cts.Cancel();
    }

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _cts.Dispose();
    }
}
