// The HttpSysLite sample. `dotnet run` serves http://+:5000/ with HttpSysLite;
// `--server kestrel` hosts the very same endpoints on Kestrel; `--urls` works with both.
var app = MinimalApi.SampleApp.Build(args);
app.Run();
