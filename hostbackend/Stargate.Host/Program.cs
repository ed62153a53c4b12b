return Stargate.Host.Cli.StargateCli.Run(args);
