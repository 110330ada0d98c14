namespace StreamPersonalization.Storage.Tests;

/// <summary>
/// Where the PostgreSQL tests connect: the <c>SP_TEST_POSTGRES</c> environment variable, always
/// required so a missing database fails loudly instead of silently skipping the provider's tests.
/// </summary>
internal static class PostgresTestDatabase
{
    public const string EnvironmentVariable = "SP_TEST_POSTGRES";

    public static string ConnectionString
    {
        get
        {
            var value = Environment.GetEnvironmentVariable(EnvironmentVariable);
            if (!string.IsNullOrWhiteSpace(value))
                return value;
            var context = Environment.GetEnvironmentVariable("CI") is null ? "" : " (CI is set: the PostgreSQL tests are mandatory there)";
            throw new InvalidOperationException(
                $"{EnvironmentVariable} is not set{context}. Start a local PostgreSQL and get the connection string with: " +
                $"export {EnvironmentVariable}=\"$(sudo scripts/ensure-postgres.sh | tail -n1)\"  " +
                "(e.g. Host=127.0.0.1;Port=5432;Username=sp;Password=sp;Database=sp_test).");
        }
    }
}
