using HttpSysLite.Transport.Routing;
using HttpSysLite.Transport.Service;

namespace HttpSysLite.Tests.Unit.Service;

public sealed class UrlReservationsTests
{
    [Theory]
    [InlineData("http://+:80/", "http://+:80/app/", true)]
    [InlineData("http://+:80/", "http://www.example.com:80/", true)]
    [InlineData("http://*:80/app/", "http://localhost:80/app/x/", true)]
    [InlineData("http://+:80/app/", "http://+:80/apple/", false)]
    [InlineData("http://+:80/app/", "http://+:80/", false)]
    [InlineData("http://+:80/", "http://+:81/", false)]
    [InlineData("http://+:443/", "https://+:443/", false)]
    [InlineData("http://localhost:80/", "http://+:80/", false)]
    [InlineData("http://localhost:80/", "http://LOCALHOST:80/a/", true)]
    public void AReservationCoversItsPathAndBelowOnItsSchemeAndPort(string reserved, string prefix, bool covers) =>
        Assert.Equal(covers, UrlReservations.Covers(UrlPrefix.Create(reserved), UrlPrefix.Create(prefix)));

    [Fact]
    public void RootRegistersAnythingAndOthersOnlyWhatTheirReservationsCover()
    {
        var reservations = new UrlReservations();
        reservations.Load([new UrlReservation { Url = "http://+:8080/a/", User = "alice", Uid = 1001 }, new UrlReservation { Url = "http://+:8081/", Group = "web", Gid = 50 }]);
        var prefix = UrlPrefix.Create("http://+:8080/a/b/");
        Assert.Null(reservations.Check(prefix, 0, [0]));
        Assert.Null(reservations.Check(prefix, 1001, [1001]));
        Assert.Null(reservations.Check(UrlPrefix.Create("http://+:8081/x/"), 1002, [1002, 50]));
        string? denied = reservations.Check(prefix, 1002, [1002, 50]);
        Assert.NotNull(denied);
        Assert.Contains("ERROR_ACCESS_DENIED", denied);
        Assert.Contains("httpsyslite urlacl add url=http://+:8080/a/b/ user=", denied);
    }

    [Fact]
    public void ALoadedListWithADuplicateOrNoPrincipalIsRefusedWhole()
    {
        var reservations = new UrlReservations();
        Assert.Throws<ArgumentException>(() => reservations.Load([new UrlReservation { Url = "http://+:80/" }]));
        Assert.Throws<ArgumentException>(() => reservations.Load(
            [new UrlReservation { Url = "http://+:80/", Uid = 1 }, new UrlReservation { Url = "http://+:80/", Gid = 2 }]));
        Assert.Empty(reservations.List());
    }
}
