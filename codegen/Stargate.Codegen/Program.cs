return Stargate.Codegen.Cli.CodegenCli.Run(args);
