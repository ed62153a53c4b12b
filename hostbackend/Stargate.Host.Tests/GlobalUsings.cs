global using System.Runtime.InteropServices;
global using Stargate.Host.Tests.Support;
