using System.Reflection;
using System.Runtime.InteropServices;

namespace StreamPersonalization.Kafka.Native;

/// <summary>
/// The one librdkafka in the process: the build that Confluent.Kafka's own loader picked from the
/// <c>librdkafka.redist</c> package (on Debian 12 its glibc build needs <c>libsasl2.so.3</c>, so the loader falls
/// back to <c>centos8-librdkafka.so</c>). The embedded cluster's P/Invoke binds to that same mapped file, never to a
/// system path, so producers, consumers and the mock cluster share one library and one set of globals.
/// </summary>
public static class KafkaNativeLibrary
{
    /// <summary>The name every <c>[DllImport]</c> in this assembly uses; resolved to <see cref="Path"/>.</summary>
    internal const string ImportName = "librdkafka";

    private static readonly Lazy<Loaded> s_loaded = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    private sealed record Loaded(string Path, IntPtr Handle, string Version);

    /// <summary>The file Confluent.Kafka loaded, e.g. <c>…/runtimes/linux-x64/native/centos8-librdkafka.so</c>.</summary>
    public static string Path => s_loaded.Value.Path;

    /// <summary>librdkafka's own version string, e.g. <c>2.16.0</c>.</summary>
    public static string Version => s_loaded.Value.Version;

    /// <summary>
    /// Loads librdkafka through Confluent.Kafka (idempotent) and binds this assembly's P/Invoke to it. Call it at start
    /// so that a machine where no build of the library loads fails at once, with a message that names what is missing.
    /// </summary>
    /// <exception cref="KafkaNativeLibraryException">No build of librdkafka in the package loads on this machine.</exception>
    public static void EnsureLoaded() => _ = s_loaded.Value;

    internal static IntPtr Handle => s_loaded.Value.Handle;

    private static Loaded Load()
    {
        string version;
        try
        {
            version = Confluent.Kafka.Library.VersionString;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException)
        {
            throw new KafkaNativeLibraryException(Diagnose(), e);
        }

        var path = MappedLibraryPath() ?? throw new KafkaNativeLibraryException(
            $"Confluent.Kafka loaded librdkafka {version}, but its file was not found among the process's mapped " +
            "libraries (/proc/self/maps), so the embedded Kafka cannot bind to the same library.", null);
        // dlopen of a file that is already mapped returns the existing handle: no second copy is loaded.
        var handle = NativeLibrary.Load(path);
        NativeLibrary.SetDllImportResolver(typeof(KafkaNativeLibrary).Assembly, Resolve);
        return new Loaded(path, handle, version);
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        name == ImportName ? s_loaded.Value.Handle : IntPtr.Zero;

    /// <summary>The path of the mapped librdkafka, read from the process's memory map (Linux). Null elsewhere.</summary>
    private static string? MappedLibraryPath()
    {
        const string maps = "/proc/self/maps";
        if (!File.Exists(maps)) return null;
        foreach (var line in File.ReadLines(maps))
        {
            var slash = line.IndexOf('/');
            if (slash < 0) continue;
            var file = line[slash..];
            if (System.IO.Path.GetFileName(file).Contains("librdkafka", StringComparison.Ordinal)) return file;
        }
        return null;
    }

    /// <summary>Why no build loaded: each packaged candidate with the dynamic loader's own error.</summary>
    private static string Diagnose()
    {
        var arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        var dirs = new[]
        {
            System.IO.Path.Combine(AppContext.BaseDirectory, "runtimes", $"linux-{arch}", "native"),
            System.IO.Path.Combine(AppContext.BaseDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier, "native"),
            AppContext.BaseDirectory,
        };
        return Describe(dirs.Distinct().Where(Directory.Exists).SelectMany(d => Directory.EnumerateFiles(d, "*librdkafka*")).Distinct());
    }

    /// <summary>The message for a machine where Confluent.Kafka loaded none of <paramref name="candidates"/>: one line per
    /// file with what the dynamic loader says of it (usually the shared library it is missing).</summary>
    internal static string Describe(IEnumerable<string> candidates)
    {
        var lines = new List<string>();
        foreach (var file in candidates)
        {
            try
            {
                NativeLibrary.Free(NativeLibrary.Load(file));
                lines.Add($"  {file}: loads by itself (Confluent.Kafka's loader did not pick it)");
            }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                // .NET wraps dlerror()'s text (last line, e.g. "libsasl2.so.3: cannot open shared object file") in advice.
                var loaderSays = e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];
                lines.Add($"  {file}: {loaderSays}");
            }
        }
        var tried = lines.Count == 0
            ? $"  no librdkafka file under {AppContext.BaseDirectory}runtimes/ (is the librdkafka.redist package restored and copied to the output?)"
            : string.Join(Environment.NewLine, lines);
        return "librdkafka (Kafka's native client, from the NuGet package librdkafka.redist 2.16.0) could not be loaded " +
               $"on {RuntimeInformation.OSDescription} ({RuntimeInformation.RuntimeIdentifier}). Tried:{Environment.NewLine}{tried}{Environment.NewLine}" +
               "Each line names what the dynamic loader is missing; install the distribution package that provides it, " +
               "or run on a platform the package supports (glibc x64/arm64, musl, macOS, Windows).";
    }
}

/// <summary>No build of librdkafka loads on this machine; the message lists each candidate and why.</summary>
public sealed class KafkaNativeLibraryException(string message, Exception? inner) : Exception(message, inner);
