// The HttpSysLite sample. `dotnet run` serves http://+:5000/ with HttpSysLite;
// `--server kestrel` hosts the very same endpoints on Kestrel; `--urls` works with both.
// `--two-apps` adds a second app on the same port under /admin/ (HttpSysLite only).
// `--driver PATH` attaches to a driver running as its own process (`httpsyslite serve --socket PATH`).
var app = MinimalApi.SampleApp.Build(args);
if (!MinimalApi.SampleApp.WantsTwoApps(app.Configuration))
{
    app.Run();
    return;
}

await app.StartAsync();
await using var admin = MinimalApi.SampleApp.BuildAdminApp(app);
await admin.StartAsync();
await app.WaitForShutdownAsync();
await admin.StopAsync();
