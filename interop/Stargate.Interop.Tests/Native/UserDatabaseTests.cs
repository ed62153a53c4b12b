using Stargate.Interop.Native;

namespace Stargate.Interop.Tests.Native;

/// <summary>Users and groups by name or number through NSS, and a user's groups; root and nobody are on every Debian machine.</summary>
public class UserDatabaseTests
{
    [Fact]
    public void UserAndGroupIds_ByNameOrNumber_AndNullForNoSuchName()
    {
        Assert.Equal(0u, UserDatabase.UserId("root"));
        Assert.Equal(65534u, UserDatabase.UserId("nobody"));
        Assert.Equal(4242u, UserDatabase.UserId("4242"));
        Assert.Null(UserDatabase.UserId("no-such-user-here"));
        Assert.Equal(0u, UserDatabase.GroupId("root"));
        Assert.Equal(4242u, UserDatabase.GroupId("4242"));
        Assert.Null(UserDatabase.GroupId("no-such-group-here"));
        Assert.Null(UserDatabase.UserId("-1"));
    }

    [Fact]
    public void User_GivesNameAndPasswdGroup_AndNullForAUidWithNoEntry()
    {
        Assert.Equal(("root", 0u), UserDatabase.User(0));
        Assert.Equal(("nobody", 65534u), UserDatabase.User(65534));
        Assert.Null(UserDatabase.User(4_000_000_000));
    }

    [Fact]
    public void GroupsOf_IncludesThePrimaryGroup_AndEveryGroupListingTheUser()
    {
        Assert.Contains(0u, UserDatabase.GroupsOf("root", 0));
        Assert.Contains(4242u, UserDatabase.GroupsOf("root", 4242));
        Assert.DoesNotContain(65534u, UserDatabase.GroupsOf("root", 0));
    }
}
