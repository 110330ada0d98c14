using Confluent.Kafka;
using StreamPersonalization.Kafka.Embedded;
using StreamPersonalization.Kafka.Native;

namespace StreamPersonalization.Kafka.Tests;

public sealed class KafkaNativeLibraryTests
{
    private static IReadOnlyList<string> MappedLibrdkafkaFiles() =>
        File.ReadLines("/proc/self/maps")
            .Select(l => l.IndexOf('/') is var i and >= 0 ? l[i..] : "")
            .Where(f => Path.GetFileName(f).Contains("librdkafka", StringComparison.Ordinal))
            .Distinct()
            .ToList();

    [Fact]
    public void EnsureLoaded_BindsToThePackagedLibrary_NotASystemPath()
    {
        KafkaNativeLibrary.EnsureLoaded();
        Assert.Equal("2.16.0", KafkaNativeLibrary.Version);
        Assert.Equal(Library.VersionString, KafkaNativeLibrary.Version);
        // The file comes from librdkafka.redist, copied under the test's own output (runtimes/<rid>/native).
        Assert.StartsWith(Path.Combine(AppContext.BaseDirectory, "runtimes"), KafkaNativeLibrary.Path);
        Assert.DoesNotContain("/usr/lib", KafkaNativeLibrary.Path);
    }

    [Fact]
    public async Task EmbeddedClusterAndClients_ShareOneLibrdkafka()
    {
        using var cluster = EmbeddedKafkaCluster.Start();
        cluster.CreateTopic("one-lib", 1);
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build();
        var delivered = await producer.ProduceAsync("one-lib", new Message<Null, string> { Value = "x" });
        Assert.Equal(PersistenceStatus.Persisted, delivered.Status);
        // One mapped librdkafka file in the process: the mock cluster's P/Invoke did not load a second copy.
        var mapped = Assert.Single(MappedLibrdkafkaFiles());
        Assert.Equal(KafkaNativeLibrary.Path, mapped);
    }

    [Fact]
    public void Describe_UnloadableCandidate_NamesFileAndLoaderError()
    {
        var dir = Directory.CreateTempSubdirectory("sp-rdkafka-");
        try
        {
            var fake = Path.Combine(dir.FullName, "librdkafka.so");
            File.WriteAllBytes(fake, [0x7f, (byte)'E', (byte)'L', (byte)'F', 1, 2, 3]);   // a truncated ELF file
            var message = KafkaNativeLibrary.Describe([fake]);
            Assert.Contains(fake, message);
            Assert.Contains("librdkafka.redist", message);
            // The dynamic loader's own words follow the file name (e.g. "file too short", "invalid ELF header").
            var line = message.Split('\n').First(l => l.StartsWith($"  {fake}: ", StringComparison.Ordinal));
            Assert.True(line.Length > fake.Length + 10, line);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Describe_NoCandidates_SaysThePackageIsMissing() =>
        Assert.Contains("is the librdkafka.redist package restored", KafkaNativeLibrary.Describe([]));
}
