using StreamPersonalization.Storage.Postgres;
using StreamPersonalization.Storage.Sqlite;

namespace StreamPersonalization.Storage.Tests;

/// <summary>Option validation and provider selection: misconfiguration must name the key and the allowed values.</summary>
public sealed class StoreOptionsTests
{
    [Fact]
    public void Sqlite_defaults_are_valid()
    {
        var options = new SqliteStoreOptions();
        options.Validate();
        Assert.Equal("data/sp.db", options.Path);
    }

    [Theory]
    [InlineData("", 1000, "Storage:Sqlite:Path")]
    [InlineData("x.db", 0, "Storage:Sqlite:BusyTimeout")]
    [InlineData("x.db", -5, "Storage:Sqlite:BusyTimeout")]
    public void Invalid_sqlite_options_name_the_key(string path, int busyMs, string key)
    {
        var error = Assert.Throws<OptionsValidationException>(() =>
            new SqliteStoreOptions { Path = path, BusyTimeout = TimeSpan.FromMilliseconds(busyMs) }.Validate());
        Assert.Equal(key, error.Key);
        Assert.Contains(key, error.Message);
        Assert.Contains("allowed", error.Message);
    }

    [Theory]
    [InlineData("", 30, "Storage:Postgres:ConnectionString")]
    [InlineData("this is not=a;;valid=connection;string", 30, "Storage:Postgres:ConnectionString")]
    [InlineData("Host=localhost", 0, "Storage:Postgres:CommandTimeoutSeconds")]
    [InlineData("Host=localhost", 3601, "Storage:Postgres:CommandTimeoutSeconds")]
    public void Invalid_postgres_options_name_the_key(string connectionString, int timeout, string key)
    {
        var error = Assert.Throws<OptionsValidationException>(() =>
            new PostgresStoreOptions { ConnectionString = connectionString, CommandTimeoutSeconds = timeout }.Validate());
        Assert.Equal(key, error.Key);
        Assert.Contains(key, error.Message);
    }

    [Fact]
    public void Unparsable_connection_string_is_not_echoed()
    {
        var error = Assert.Throws<OptionsValidationException>(() =>
            new PostgresStoreOptions { ConnectionString = "Password=hunter2;Bogus Key=1" }.Validate());
        Assert.DoesNotContain("hunter2", error.Message);
    }

    [Fact]
    public async Task Factory_creates_the_named_provider()
    {
        var path = Path.Combine(Path.GetTempPath(), $"sp-factory-{Guid.NewGuid():N}.db");
        await using (var sqlite = CheckpointStoreFactory.Create("SQLite", new SqliteStoreOptions { Path = path }))
            Assert.IsType<SqliteCheckpointStore>(sqlite);
        await using (var postgres = CheckpointStoreFactory.Create("postgres", postgres: new PostgresStoreOptions { ConnectionString = "Host=localhost" }))
            Assert.IsType<PostgresCheckpointStore>(postgres);
    }

    [Fact]
    public void Factory_rejects_unknown_providers_listing_the_allowed_ones()
    {
        var error = Assert.Throws<OptionsValidationException>(() => CheckpointStoreFactory.Create("mysql"));
        Assert.Equal(CheckpointStoreFactory.ProviderKey, error.Key);
        Assert.Contains("sqlite | postgres", error.Message);
    }

    [Fact]
    public void Factory_validates_the_chosen_providers_options()
    {
        var error = Assert.Throws<OptionsValidationException>(() => CheckpointStoreFactory.Create("postgres"));
        Assert.Equal("Storage:Postgres:ConnectionString", error.Key);
    }
}
